"""lm-eval users' command lines run through ``harness``, and ``--output-path`` writes the files lm-eval writes:
compared with the files lm-eval 0.4.13 itself writes for the same model and task."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys

import pytest

from harness.store import Store
from tests.helpers import REPO, run_cli


def readme_command() -> str:
    """The lm-eval command line of the README's first section, without the program's name."""
    quick = (REPO / "README.md").read_text().split("## Quick start")[1].split("\n## ")[0]
    line = next(line for line in quick.splitlines() if line.startswith(".venv/bin/harness --model hf"))
    return line.removeprefix(".venv/bin/harness ")


# The README's, then lm-eval's documented command lines (see tests/unit/test_lm_eval_cli.py) with only the task
# (a local one), the model (a tiny twin) and the device replaced, and a --limit to keep them short
RUNS = [
    (readme_command(), {"backend": "transformers", "batch_size": 8, "apply_chat_template": False}),
    ('--model hf --model_args pretrained=tiny-pythia,dtype="float" --tasks finance_sentiment,finance_headline '
     "--device cpu --batch_size auto:4 --limit 6", {"dtype": "float32", "batch_size": 16}),
    ("run --model hf --model_args pretrained=tiny-llama-2 dtype=float32 --tasks finance_headline --device cpu "
     "--limit 6", {"model_args": {}}),
    ("run --model hf --model_args pretrained=tiny-pythia --tasks finance_sentiment finance_headline --num_fewshot 2 "
     "--device cpu --limit 6", {"num_fewshot": 2}),
    ("""run --model hf --model_args pretrained=tiny-pythia --tasks finance_numeric --gen_kwargs temperature=0 """
     """max_gen_toks=8 'until=["\\n\\n"]' --device cpu --limit 4""",
     {"gen_kwargs": {"until": ["\n\n"], "max_gen_toks": 8, "temperature": 0, "do_sample": False}}),
]


@pytest.mark.parametrize("line,settings", RUNS, ids=[f"run{i}" for i in range(len(RUNS))])
def test_lm_eval_command_lines_run(db, line, settings, tiny_pythia_path):
    proc = run_cli(*shlex.split(line), "--db", str(db))
    assert proc.returncode == 0, proc.stderr
    if "--batch_size auto" in line:
        assert "--batch-size auto: 16 (cpu, transformers)" in proc.stderr
    runs = Store(db).list_runs()
    tasks = [t for part in shlex.split(line)[shlex.split(line).index("--tasks") + 1:] if not part.startswith("-")
             for t in part.split(",")][:2]
    assert {r["task"] for r in runs} <= set(tasks) and all(r["status"] == "finished" for r in runs)
    for run in runs:
        recorded = {key: run["settings"][key] for key in settings}
        if "gen_kwargs" in settings:  # the task's own generation settings are kept beside the given ones
            recorded["gen_kwargs"] = {k: v for k, v in recorded["gen_kwargs"].items() if k in settings["gen_kwargs"]}
        assert recorded == settings


LM_EVAL_WRITES = """
import sys
import lm_eval
from lm_eval.loggers import EvaluationTracker
from lm_eval.tasks import TaskManager
path, tasks_dir, out = sys.argv[1:]
# what `lm_eval run --output_path OUT --log_samples` does (its flags arrive as these values)
tracker = EvaluationTracker(output_path=out)
results = lm_eval.simple_evaluate(model="hf", model_args={"pretrained": path, "dtype": "float32"},
                                  tasks=["finance_sentiment"], limit=8.0, batch_size="4", device="cpu",
                                  log_samples=True, evaluation_tracker=tracker, fewshot_as_multiturn=None,
                                  gen_kwargs={},
                                  task_manager=TaskManager(include_path=tasks_dir, include_defaults=False))
samples = results.pop("samples")
tracker.save_results_aggregated(results=results, samples=samples)
for name in results["configs"]:
    tracker.save_results_samples(task_name=name, samples=samples[name])
"""


def _written(folder):
    (results,) = folder.glob("*/results_*.json")
    (samples,) = folder.glob("*/samples_finance_sentiment_*.jsonl")
    return json.loads(results.read_text()), [json.loads(line) for line in samples.read_text().splitlines()]


def _shape(value):
    return {k: _shape(v) for k, v in value.items()} if isinstance(value, dict) else type(value).__name__


def test_output_path_writes_the_files_lm_eval_writes(tmp_path, tiny_pythia_path):
    from pydantic import TypeAdapter

    from harness.resources import tasks_dir
    from lm_eval.result_schema import EvalResults, SampleResult

    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    proc = run_cli("--model", "hf", "--model_args", "pretrained=tiny-pythia,dtype=float32", "--tasks",
                   "finance_sentiment", "--device", "cpu", "--batch_size", "4", "--limit", "8", "--output_path",
                   str(ours), "--log_samples", "--db", str(tmp_path / "s.duckdb"))
    assert proc.returncode == 0, proc.stderr
    subprocess.run([sys.executable, "-c", LM_EVAL_WRITES, str(tiny_pythia_path), str(tasks_dir()), str(theirs)],
                   check=True, capture_output=True, cwd=REPO, timeout=600)
    (our_results, our_samples), (their_results, their_samples) = _written(ours), _written(theirs)
    assert set(our_results) == set(their_results)
    for key in set(their_results) - {"configs", "date", "pretty_env_info"}:
        assert _shape(our_results[key]) == _shape(their_results[key]), key
    assert our_results["results"] == their_results["results"]  # same metric values, same stderr
    for key in ("group_subtasks", "versions", "n-shot", "higher_is_better", "n-samples", "task_hashes"):
        assert our_results[key] == their_results[key], key
    assert set(our_results["configs"]["finance_sentiment"]) == set(their_results["configs"]["finance_sentiment"])
    # lm-eval's own schema; its "configs" entry fails it for lm-eval's files too, so it is left out for both
    for results in (our_results, their_results):
        TypeAdapter(EvalResults).validate_python({k: v for k, v in results.items() if k != "configs"})
    assert len(our_samples) == len(their_samples) == 8
    for ours_, theirs_ in zip(our_samples, their_samples, strict=True):
        TypeAdapter(SampleResult).validate_python(ours_)
        assert set(ours_) == set(theirs_)
        same = {k for k in theirs_ if k not in ("resps", "filtered_resps")}
        assert {k: ours_[k] for k in same} == {k: theirs_[k] for k in same}
        for got, want in zip(ours_["filtered_resps"], theirs_["filtered_resps"], strict=True):
            assert float(got[0]) == pytest.approx(float(want[0]), abs=1e-5) and got[1] == want[1]


@pytest.mark.parametrize("args,message", [
    (["--model", "hf", "--tasks", "finance_sentiment"], "--model hf is lm-eval's model type"),
    (["--model", "hf", "--model_args", "pretrained=tiny-pythia", "--tasks", "finance_sentiment", "--predict_only"],
     "lm-eval's --predict_only is not supported by harness"),
    (["--model", "hf", "--model_args", "pretrained=tiny-pythia,parallelize=True", "--tasks", "finance_sentiment"],
     "--model-args: unknown key(s) parallelize for the transformers backend"),
    (["--model", "tiny-pythia", "--tasks", "finance_sentiment", "--batch_size", "lots"],
     "--batch-size 'lots': give a number of requests, or auto"),
])
def test_refused_lm_eval_input_is_one_line_and_writes_nothing(db, args, message):
    proc = run_cli(*args, "--db", str(db))
    assert proc.returncode == 2 and message in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, \
        proc.stderr
    assert not db.exists()
