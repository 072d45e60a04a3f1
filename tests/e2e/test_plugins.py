"""A third-party package adds a backend and a harness-native task type through entry points, and both run
through the CLI without a line of the harness changing."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from harness.store import Store
from tests.helpers import cli_json, run_cli

PLUGIN = '''
"""A backend that scores a continuation by its length, and a task type that counts words."""
from pathlib import Path

from harness.backends.base import Arg
from harness.records import Outcome, SampleRow


class EchoBackend:
    name = "echo"
    args = {"bonus": Arg(float)}

    @classmethod
    def planned(cls, model, *, device, dtype, model_args):
        return {"device": "cpu", "dtype": "none", "max_length": 512}

    def __init__(self, model, *, device, dtype, batch_size, model_args, **extra):
        self.tokenizer_name, self.batch_size = model.path, batch_size
        self.bonus = float(model_args.get("bonus", 0.0))

    def describe(self):
        return {"backend": self.name, "device": "cpu", "dtype": "none", "max_length": 512}

    def loglikelihood(self, requests):
        yield list(range(len(requests))), [(self.bonus - len(cont), False) for _, cont in requests]

    def loglikelihood_rolling(self, texts):
        yield list(range(len(texts))), [(-float(len(t)), len(t)) for t in texts]

    def generate_until(self, requests):
        yield list(range(len(requests))), ["42" for _ in requests]

    def apply_chat_template(self, history, add_generation_prompt=True):
        raise NotImplementedError

    def close(self):
        pass


class WordCount:
    name = "wordcount"
    modality = "text"
    metrics = ("words",)

    def prepare(self, task, data, limit, options):
        texts = list(task.options["texts"])[: int(limit) if limit else None]
        return {"texts": texts, "settings": {"texts": len(texts)}}

    def validate(self, model_path, prepared):
        pass

    def content_hash(self, task, prepared):
        return task.name + "|" + "|".join(prepared["texts"])

    def load(self, model_path, prepared, *, device, dtype):
        return model_path

    def evaluate(self, loaded, task, prepared, *, device, dtype, batch_size, on_batch):
        rows = [{"doc_id": i, "text": t, "words": len(t.split())} for i, t in enumerate(prepared["texts"])]
        on_batch(rows)
        mean = sum(r["words"] for r in rows) / len(rows)
        return Outcome(metrics=[{"task": task.name, "metric": "words", "filter": "none", "value": mean,
                                 "stderr": None, "n": len(rows), "higher_is_better": None}], samples=rows)

    def sample_row(self, row):
        return SampleRow(doc_id=row["doc_id"], output_type="wordcount", input=row["text"], prediction=row["words"],
                         metrics={"words": row["words"]})


WORDCOUNT = WordCount()


def task_folder():
    return Path(__file__).parent / "tasks"
'''
PYPROJECT = '''
[build-system]
requires = ["setuptools"]
build-backend = "setuptools.build_meta"

[project]
name = "harness-echo"
version = "0.1"

[tool.setuptools]
packages = ["harness_echo"]

[tool.setuptools.package-data]
harness_echo = ["tasks/*.yaml"]

[project.entry-points."harness.backends"]
echo = "harness_echo:EchoBackend"

[project.entry-points."harness.task_types"]
wordcount = "harness_echo:WORDCOUNT"

[project.entry-points."harness.tasks"]
echo = "harness_echo:task_folder"
'''
TASK = """harness_task: wordcount_demo
type: wordcount
options:
  texts: ["one two", "three four five", "six"]
"""


@pytest.fixture(scope="module")
def plugin_env(tmp_path_factory) -> dict[str, str]:
    """The package built and installed into a folder of its own, put on the path of CLI processes."""
    root = tmp_path_factory.mktemp("plugin")
    source = root / "src"
    (source / "harness_echo" / "tasks").mkdir(parents=True)
    (source / "pyproject.toml").write_text(textwrap.dedent(PYPROJECT))
    (source / "harness_echo" / "__init__.py").write_text(PLUGIN)
    (source / "harness_echo" / "tasks" / "wordcount.yaml").write_text(TASK)
    site = root / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "--no-index",
                    "--target", str(site), str(source)], check=True, capture_output=True)
    assert list(site.glob("harness_echo-*.dist-info/entry_points.txt"))
    return {"PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])}


def test_a_plugin_backend_answers_through_the_cli(plugin_env, db):
    args = ["--model", "tiny-pythia", "--task", "finance_sentiment", "--limit", "4", "--db", str(db)]
    (result,) = cli_json("run", *args, "--backend", "echo", "--format", "json", env=plugin_env)
    rows = Store(db).sample_rows(result["run_id"])
    assert len(rows) == 4
    for row in rows:  # the continuation is " " + choice (lm-eval's target delimiter)
        assert row["loglikelihoods"] == [-float(len(" " + choice)) for choice in row["choices"]]
    assert Store(db).get_run(result["run_id"])["run"]["backend"] == "echo"
    bonus = cli_json("run", *args, "--backend", "echo", "--model-args", "bonus=1.5", "--format", "json",
                     env=plugin_env)
    assert Store(db).sample_rows(bonus[0]["run_id"])[0]["loglikelihoods"][0] == rows[0]["loglikelihoods"][0] + 1.5
    wrong = run_cli("run", *args, "--backend", "echo", "--model-args", "colour=red", env=plugin_env)
    assert wrong.returncode == 2 and "unknown key(s) colour for the echo backend; known: bonus" in wrong.stderr
    typo = run_cli("run", *args, "--backend", "ecco", env=plugin_env)
    assert typo.returncode == 2 and "did you mean 'echo'" in typo.stderr


def test_a_plugin_task_type_runs_its_own_tasks(plugin_env, db):
    (result,) = cli_json("run", "--model", "tiny-pythia", "--task", "wordcount_demo", "--db", str(db),
                         "--format", "json", env=plugin_env)
    assert [(m["metric"], m["value"], m["n"]) for m in result["metrics"]] == [("words", 2.0, 3)]
    listed = cli_json("tasks", "wordcount", "--format", "json", env=plugin_env)
    assert [t["name"] for t in listed] == ["wordcount_demo"]
    without = run_cli("run", "--model", "tiny-pythia", "--task", "wordcount_demo", "--db", str(db))
    assert without.returncode == 2 and "unknown task 'wordcount_demo'" in without.stderr
