"""``--dry-run`` prints the plan without loading weights or touching the store, and the real command then does
what the plan said; a run the cache fully answers is re-scored without loading the model."""

from __future__ import annotations

import json

import pytest

import harness
from harness.cli import main
from tests.helpers import cli_json, run_cli


@pytest.fixture
def no_weights(monkeypatch, tiny_pythia_path):
    """Loading any transformers model raises (the tiny twins are built before)."""
    import transformers

    from harness.models.tiny import ensure_tiny
    from harness.registry import get_model

    ensure_tiny(get_model("tiny-llama-2"))

    def refuse(*args, **kwargs):
        raise AssertionError("weights were loaded")

    monkeypatch.setattr(transformers.PreTrainedModel, "from_pretrained", classmethod(refuse))
    monkeypatch.setattr(transformers.AutoModelForCausalLM, "from_pretrained", classmethod(refuse))


def test_a_dry_run_loads_no_weights_and_writes_nothing(db, no_weights, capsys):
    assert main(["run", "--model", "tiny-pythia", "--task", "finance", "--limit", "4", "--db", str(db),
                 "--dry-run", "--format", "json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert [t["action"] for t in plan["tasks"]] == ["new", "new", "new"] and plan["model_load"]
    assert not db.exists()
    assert main(["run", "--model", "tiny-pythia", "--task", "finance", "--limit", "4", "--db", str(db),
                 "--dry-run"]) == 0
    table = capsys.readouterr().out
    assert "finance_numeric" in table and "model load" in table and not db.exists()


def test_the_run_does_what_its_dry_run_planned(db):
    args = ["--model", "tiny-pythia", "--task", "finance", "--limit", "6", "--db", str(db), "--format", "json"]
    plan = cli_json("run", *args, "--dry-run")
    assert not db.exists()
    results = cli_json("run", *args)
    stored = {r["task"]: r for r in harness.runs(db=db)}
    assert set(stored) == {t["task"] for t in plan["tasks"]} == {r["task"] for r in results}
    for task in plan["tasks"]:
        run = stored[task["task"]]
        assert (run["model_fingerprint"], run["backend"]) == (plan["model_fingerprint"], plan["backend"])
        assert (run["task_hash"], run["settings_hash"]) == (task["task_hash"], task["settings_hash"])
        assert run["settings"]["request_hash"] == task["request_hash"] and run["n_requests"] == task["requests"]
    again = cli_json("run", *args, "--dry-run")
    assert [(t["answered"], t["model_load"]) for t in again["tasks"]] == [(t["requests"], False) for t in plan["tasks"]]
    proc = run_cli("run", *args)
    assert proc.returncode == 0 and "re-scoring without loading the model" in proc.stderr


def test_a_run_the_cache_answers_is_rescored_without_the_model(db, monkeypatch, tiny_pythia_path):
    first = harness.run(model="tiny-pythia", task="finance_sentiment,finance_numeric", limit=5, db=db, quiet=True,
                        log=lambda _: None)
    import transformers

    def refuse(*args, **kwargs):
        raise AssertionError("weights were loaded")

    monkeypatch.setattr(transformers.PreTrainedModel, "from_pretrained", classmethod(refuse))
    again = harness.run(model="tiny-pythia", task="finance_sentiment,finance_numeric", limit=5, db=db, quiet=True,
                        log=lambda _: None)
    assert [r["metrics"] for r in again] == [r["metrics"] for r in first]
    assert {r["run_id"] for r in again}.isdisjoint({r["run_id"] for r in first})


def test_a_sweep_dry_run_agrees_with_the_sweep(db):
    args = ["--models", "tiny-pythia,tiny-llama-2", "--tasks", "finance", "--limit", "3", "--db", str(db),
            "--format", "json"]
    planned = cli_json("sweep", *args, "--dry-run")
    assert [(j["model"], j["action"]) for j in planned] == [("tiny-pythia", "run"), ("tiny-llama-2", "run")]
    assert not db.exists()
    swept = cli_json("sweep", *args)
    assert [j["status"] for j in swept["jobs"]] == ["finished", "finished"]
    replanned = cli_json("sweep", *args, "--dry-run")
    assert [j["action"] for j in replanned] == ["skip", "skip"]
    for job, done in zip(replanned, swept["jobs"]):
        assert sorted(t["run_id"] for t in job["plan"]["tasks"]) == sorted(done["run_ids"])
        assert {t["action"] for t in job["plan"]["tasks"]} == {"reuse"}
