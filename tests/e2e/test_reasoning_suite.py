"""The reasoning group end to end: prompt strategies, system prompts and chat templates as a user runs them."""

from __future__ import annotations

import pytest

from harness.text.strategies import STRATEGIES
from tests.helpers import cli_json, run_cli

COT = "reasoning_navigate_cot"


@pytest.fixture(scope="module")
def strategy_store(tmp_path_factory):
    db = tmp_path_factory.mktemp("reasoning") / "store.duckdb"
    proc = run_cli("run", "--model", "tiny-orca-2", "--task", "reasoning", "--prompt-strategy", "step-by-step",
                   "--limit", "2", "--gen-kwargs", "max_gen_toks=16", "--db", str(db))
    assert proc.returncode == 0, proc.stderr
    return db


def _runs(db) -> dict[str, dict]:
    return {r["task"]: r for r in cli_json("runs", "--format", "json", "--db", str(db))}


def test_the_group_runs_every_form_and_records_the_strategy(strategy_store):
    runs = _runs(strategy_store)
    puzzles = ["logical_deduction", "date", "tracking", "navigate"]
    assert set(runs) == {f"reasoning_{p}{s}" for p in puzzles for s in ("", "_cot")} | {"reasoning_arithmetic"}
    assert all(r["status"] == "finished" for r in runs.values())
    for name, run in runs.items():
        settings = run["settings"]
        assert settings["prompt_strategy"] == "step-by-step" and settings["apply_chat_template"] is True
        generative = name.endswith("_cot") or name == "reasoning_arithmetic"
        assert settings["system_instruction"] == (STRATEGIES["step-by-step"] if generative else None), name
        assert settings["system_prompt_from"] == ("strategy" if generative else None)
        assert "+chat:" in run["model_fingerprint"] and settings["chat_template_hash"] in run["model_fingerprint"]


def test_the_strategy_reaches_the_prompt_through_the_chat_template(strategy_store):
    runs = _runs(strategy_store)
    proc = run_cli("export", runs[COT]["run_id"], "--db", str(strategy_store))
    first = proc.stdout.splitlines()[0]
    assert "<|im_start|>system\\n" + STRATEGIES["step-by-step"].replace('"', '\\"') in first  # Orca-2's ChatML
    proc = run_cli("export", runs["reasoning_navigate"]["run_id"], "--db", str(strategy_store))
    assert "<|im_start|>system" not in proc.stdout and "<|im_start|>user" in proc.stdout


def test_an_explicit_system_prompt_replaces_the_strategy(tmp_path):
    db = tmp_path / "s.duckdb"
    proc = run_cli("run", "--model", "tiny-orca-2", "--task", COT, "--prompt-strategy", "direct", "--system-prompt",
                   "You are Orca.", "--limit", "2", "--gen-kwargs", "max_gen_toks=8", "--db", str(db))
    assert proc.returncode == 0, proc.stderr
    settings = _runs(db)[COT]["settings"]
    assert (settings["prompt_strategy"], settings["system_instruction"], settings["system_prompt_from"]) == \
        ("direct", "You are Orca.", "explicit")


def test_the_strategy_is_refused_on_log_likelihood_tasks(tmp_path):
    db = tmp_path / "s.duckdb"
    proc = run_cli("run", "--model", "tiny-orca-2", "--task", "reasoning_navigate,reasoning_date", "--prompt-strategy",
                   "direct", "--db", str(db))
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert "--prompt-strategy changes only generated answers" in proc.stderr
    assert cli_json("runs", "--format", "json", "--db", str(db)) == []


def test_chat_is_on_for_chat_models_and_off_with_no_chat(tmp_path):
    db = tmp_path / "s.duckdb"
    for model, flags in (("tiny-orca-2", ["--no-chat"]), ("tiny-llama-2-chat", []), ("tiny-pythia", [])):
        proc = run_cli("run", "--model", model, "--task", "reasoning_navigate", "--limit", "2", "--db", str(db), *flags)
        assert proc.returncode == 0, proc.stderr
    runs = {r["model"]: r for r in cli_json("runs", "--format", "json", "--db", str(db))}
    assert runs["tiny-orca-2"]["settings"]["apply_chat_template"] is False
    assert "+chat:" not in runs["tiny-orca-2"]["model_fingerprint"]
    assert runs["tiny-llama-2-chat"]["settings"]["apply_chat_template"] is True
    assert "+chat:" in runs["tiny-llama-2-chat"]["model_fingerprint"]
    assert runs["tiny-pythia"]["settings"]["apply_chat_template"] is False
