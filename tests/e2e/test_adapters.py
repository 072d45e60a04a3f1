"""QLoRA-style evaluation: LoRA adapters (peft), quantization refused on the CPU, load time and peak memory."""

from __future__ import annotations

import json

import duckdb
import pytest
import torch

import harness
from tests.helpers import LIMIT, cli_json, lm_eval_samples, run_cli, worst_difference


@pytest.fixture(scope="module")
def adapter(tmp_path_factory, tiny_pythia_path):
    """A LoRA adapter trained by the test: a few steps that push tiny-pythia towards one answer."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.manual_seed(0)
    tokenizer = AutoTokenizer.from_pretrained(tiny_pythia_path)
    model = get_peft_model(AutoModelForCausalLM.from_pretrained(tiny_pythia_path, dtype=torch.float32),
                           LoraConfig(r=8, lora_alpha=16, target_modules=["query_key_value"], lora_dropout=0.0))
    batch = torch.tensor([tokenizer("Sentiment: positive. The answer is positive positive positive")["input_ids"]])
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=5e-2)
    for _ in range(20):
        loss = model(batch, labels=batch).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    folder = tmp_path_factory.mktemp("adapters") / "positive-lora"
    model.save_pretrained(folder)
    return folder


def _samples(db, run_id: str) -> dict[int, dict]:
    return {s["doc_id"]: s for s in harness.api._store(db).sample_rows(run_id)}


def test_an_adapter_changes_answers_and_the_fingerprint_and_matches_lm_eval(adapter, db, tmp_path,
                                                                             tiny_pythia_path):
    base = harness.run(model="tiny-pythia", task="finance_sentiment", limit=LIMIT, db=db, quiet=True,
                       log=lambda _: None)[0]
    tuned = harness.run(model="tiny-pythia", task="finance_sentiment", limit=LIMIT, db=db, quiet=True,
                        adapter=str(adapter), log=lambda _: None)[0]
    base_run, tuned_run = (harness.show(r["run_id"], db=db)["run"] for r in (base, tuned))
    assert tuned_run["model_fingerprint"].startswith(base_run["model_fingerprint"] + "+adapter:")
    assert tuned_run["settings"]["adapter"] == str(adapter.resolve())
    ours, plain = _samples(db, tuned["run_id"]), _samples(db, base["run_id"])
    assert any(ours[d]["prediction"] != plain[d]["prediction"] for d in ours)  # the adapter changed answers
    # lm-eval's hf model on the adapter merged into the weights (its peft= argument would first shrink the
    # output embedding to the tokenizer's 801 entries, changing every log-probability)
    _, reference = lm_eval_samples(str(merged(adapter, tiny_pythia_path, tmp_path / "merged")),
                                   ["finance_sentiment"], [])
    assert worst_difference(ours, reference["finance_sentiment"]) < 1e-4


def merged(adapter, base, out):
    """The base model with the LoRA update folded into its weights, saved as a plain checkpoint."""
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32), adapter)
    model.merge_and_unload().save_pretrained(out)
    AutoTokenizer.from_pretrained(base).save_pretrained(out)
    return out


def test_every_run_records_load_time_and_peak_memory_and_the_leaderboard_shows_them(adapter, db, tmp_path):
    for extra in ([], ["--adapter", str(adapter)]):
        cli_json("run", "--model", "tiny-pythia", "--task", "finance", "--limit", "6", "--db", str(db),
                 "--format", "json", *extra)
    with duckdb.connect(str(db), read_only=True) as conn:
        costs = conn.execute("SELECT load_s, peak_memory_mb FROM runs").fetchall()
    assert len(costs) == 6 and all(load > 0 and 100 < peak < 24 * 1024 for load, peak in costs)
    proc = run_cli("leaderboard", "llm-2023", "--db", str(db), "--format", "json", "--out", str(tmp_path / "site"))
    assert proc.returncode == 0, proc.stderr
    records = json.loads(proc.stdout)
    rows = {(r["model"], r["variant"]): r for r in records}
    assert set(rows) == {("tiny-pythia", None), ("tiny-pythia", "lora:positive-lora")}  # a row per variant
    assert all(r["peak_memory_gb"] > 0.1 for r in records)
    page = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    assert "memory (GiB)" in page and "Finance score against peak memory" in page


def test_a_sweep_with_an_adapter_skips_what_it_finished(adapter, db):
    args = ["sweep", "--models", "tiny-pythia", "--tasks", "finance_sentiment", "--limit", "4", "--adapter",
            str(adapter), "--db", str(db), "--format", "json"]
    assert cli_json(*args)["jobs"][0]["status"] == "finished"
    assert cli_json(*args)["jobs"][0]["status"] == "skipped"
    plain = cli_json("sweep", "--models", "tiny-pythia", "--tasks", "finance_sentiment", "--limit", "4", "--db",
                     str(db), "--format", "json")
    assert plain["jobs"][0]["status"] == "finished"  # the base model is other weights


@pytest.mark.parametrize("args, message", [
    (["--quantization", "nf4"], "--quantization nf4 loads through bitsandbytes on a CUDA GPU and this run is on "
                                "the CPU"),
    (["--adapter", "."], "not an adapter folder (no adapter_config.json)"),
    (["--adapter", "x", "--backend", "vllm"], "--adapter and --quantization load through --backend transformers"),
])
def test_variants_that_cannot_load_are_refused_with_one_line(db, args, message):
    proc = run_cli("run", "--model", "tiny-pythia", "--task", "finance_sentiment", "--db", str(db), *args)
    assert proc.returncode == 2 and message in proc.stderr, proc.stderr
    assert proc.stderr.strip().count("\n") == 0 and not db.exists()
