"""Helpers shared by the tests (fixtures and hooks live in conftest.py): a CLI runner, task helper modules,
and the lm-eval comparison helpers. Import them as ``from tests.helpers import ...``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import harness
import harness.api
from harness.resources import tasks_dir

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
FIXTURES = TESTS / "fixtures"
LIMIT = 24


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
