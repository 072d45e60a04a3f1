"""Shared fixtures: an offline, sandboxed environment and a CLI runner."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import harness
import harness.api
from harness.resources import tasks_dir

REPO = Path(__file__).resolve().parents[1]


def pytest_configure(config: pytest.Config) -> None:
    """Nothing reaches for the network or writes to the home folder; subprocesses inherit this."""
    import tempfile

    root = Path(tempfile.mkdtemp(prefix="harness-tests-"))
    os.environ.update({
        "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
        "HF_HOME": str(root / "hf"), "HARNESS_CACHE": str(root / "cache"),
        "HARNESS_DB": str(root / "default.duckdb"), "NO_COLOR": "1", "TOKENIZERS_PARALLELISM": "false",
        "VLLM_CPU_KVCACHE_SPACE": "1", "VLLM_TARGET_DEVICE": "cpu",
    })


def task_module(folder: str, name: str):
    """Import ``tasks/FOLDER/NAME.py`` (task helper modules are not a package)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(f"{folder}_{name}", tasks_dir() / folder / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def run_cli(*args: str, env: dict | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run ``harness ARGS`` in a fresh interpreter, as a user would."""
    return subprocess.run([sys.executable, "-m", "harness.cli", *args], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})}, cwd=REPO)


def cli_json(*args: str, **kwargs) -> object:
    """Run the CLI, require success, and parse stdout as JSON."""
    proc = run_cli(*args, **kwargs)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.fixture(scope="session", autouse=True)
def _release_warm_engines():
    """Stop the warm vLLM engine before the interpreter (and pytest's output capture) goes away."""
    yield
    harness.api.release_engines()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "store.duckdb"


@pytest.fixture(scope="session")
def tiny_pythia_path() -> Path:
    from harness.models.tiny import ensure_tiny
    from harness.registry import get_model

    return ensure_tiny(get_model("tiny-pythia"))


LIMIT = 24
ROLLING_YAML = """task: rolling_text
dataset_path: json
dataset_kwargs:
  data_files:
    test: {data}
test_split: test
output_type: loglikelihood_rolling
doc_to_text: ""
doc_to_target: "{{{{text}}}}"
metric_list:
  - metric: word_perplexity
  - metric: byte_perplexity
  - metric: bits_per_byte
metadata:
  version: 1.0
"""
CHOICES_YAML = """task: long_choices
dataset_path: json
dataset_kwargs:
  data_files:
    test: {data}
test_split: test
output_type: multiple_choice
doc_to_text: "{{{{question}}}}\\nAnswer:"
doc_to_target: gold
doc_to_choice: "{{{{choices}}}}"
metric_list:
  - metric: acc
  - metric: acc_norm
metadata:
  version: 1.0
"""


@pytest.fixture(scope="session")
def extra_tasks(tmp_path_factory):
    """A perplexity task and a multiple-choice task whose choices are many tokens long."""
    folder = tmp_path_factory.mktemp("extra")
    lines = [json.loads(line) for line in (tasks_dir() / "finance" / "numeric_test.jsonl").read_text().splitlines()]
    texts = [{"text": f"{d['pre_text']} {d['post_text']} {d['question']} {d['answer_str']}"} for d in lines[:6]]
    (folder / "rolling.jsonl").write_text("".join(json.dumps(t) + "\n" for t in texts))
    (folder / "rolling.yaml").write_text(ROLLING_YAML.format(data=folder / "rolling.jsonl"))
    docs = [{"question": d["question"], "gold": i % 4,
             "choices": [f"the figure is {d['answer_str']} for {y}" if j == i % 4 else
                         f"it would be about {j * 7 + i} percent of revenue in {y}" for j in range(4)]}
            for i, (d, y) in enumerate(zip(lines[:LIMIT], range(2000, 2000 + LIMIT)))]
    (folder / "choices.jsonl").write_text("".join(json.dumps(d) + "\n" for d in docs))
    (folder / "choices.yaml").write_text(CHOICES_YAML.format(data=folder / "choices.jsonl"))
    return folder


def lm_eval_samples(path, tasks, include, model_args=""):
    """lm-eval's own ``hf`` model: (results, {task: {doc_id: logged sample}})."""
    import lm_eval
    from lm_eval.tasks import TaskManager

    manager = TaskManager(include_path=[str(tasks_dir()), *map(str, include)], include_defaults=False)
    out = lm_eval.simple_evaluate(model="hf", model_args=f"pretrained={path},dtype=float32{model_args}",
                                  tasks=tasks, task_manager=manager, limit=LIMIT, batch_size=4, device="cpu",
                                  log_samples=True)
    return out["results"], {t: {s["doc_id"]: s for s in out["samples"][t]} for t in tasks}


def our_samples(model, tasks, db, include=(), model_args=None, batch_size=4, backend="transformers"):
    """The harness through its Python API: {task: (result, {doc_id: stored sample})}."""
    results = harness.run(model=model, task=tasks, limit=LIMIT, batch_size=batch_size, device="cpu", db=db, quiet=True,
                          backend=backend,
                          include_path=[str(p) for p in include], model_args=model_args, log=lambda _: None)
    return {r["task"]: (r, {s["doc_id"]: s for s in harness.api._store(db).sample_rows(r["run_id"])})
            for r in results}


def worst_difference(ours: dict, reference: dict) -> float:
    """Largest per-choice log-likelihood difference between stored samples and lm-eval's."""
    return max(abs(a - b[0]) for doc_id, ref in reference.items()
               for a, b in zip(ours[doc_id]["loglikelihoods"], ref["filtered_resps"]))


