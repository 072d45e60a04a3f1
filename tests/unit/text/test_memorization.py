"""Pythia's across-training questions offline: tiny-pythia's local revisions, k-extractable memorization."""

from __future__ import annotations

import json
import shutil

import duckdb
import pytest
import torch

from harness.models.resolve import resolve_model
from harness.sweep.plan import PYTHIA_SCHEDULE, parse_revisions
from harness.text.memorization import greedy_continuations
from tests.helpers import cli_json, run_cli, task_module


def test_pythia_schedule_and_ranges_expand_as_published():
    assert len(PYTHIA_SCHEDULE) == 154
    assert PYTHIA_SCHEDULE[:12] == ["step0", "step1", "step2", "step4", "step8", "step16", "step32", "step64",
                                    "step128", "step256", "step512", "step1000"]
    assert PYTHIA_SCHEDULE[-1] == "step143000"
    assert parse_revisions("step1000:step143000:1000") == PYTHIA_SCHEDULE[11:]
    assert parse_revisions("main,step3:step9:3,main") == ["main", "step3", "step6", "step9"]
    for bad in ("step9:step3:3", "step1:other5:1", "step1:step5:0"):
        with pytest.raises(Exception, match="a range is PREFIXSTART:PREFIXEND:STEP"):
            parse_revisions(bad)


def test_corpus_generator_is_committed_output():
    generate = task_module("memorization", "generate")
    committed = (generate.HERE / "corpus.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in committed] == generate.corpus()


def test_tiny_pythia_revisions_are_distinct_checkpoints_with_their_own_fingerprints():
    step0, step128 = resolve_model("tiny-pythia@step0"), resolve_model("tiny-pythia", "step128")
    assert step0.fingerprint.startswith("tiny-pythia@step0@sha256:") and step0.revision == "step0"
    assert step0.fingerprint != step128.fingerprint != resolve_model("tiny-pythia").fingerprint
    with pytest.raises(Exception, match="it offers step0, step16, step32, step64, step128"):
        resolve_model("tiny-pythia@step17")


def _train_on(folder, texts: list[str], steps: int = 80) -> None:
    """Overfit a copy of tiny-pythia on ``texts`` (full batch), so they really are memorized."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.manual_seed(0)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32)
    batch = torch.tensor([tokenizer(t, add_special_tokens=False)["input_ids"][:64] for t in texts])
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    for _ in range(steps):
        loss = model(batch, labels=batch).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.save_pretrained(folder)


def test_a_model_trained_on_a_corpus_memorizes_it_and_not_held_out_documents(tmp_path, db, tiny_pythia_path):
    docs = task_module("memorization", "generate").corpus()[:12]
    trained = docs[:8]  # the other 4 are held out
    folder = tmp_path / "overfit"
    shutil.copytree(tiny_pythia_path, folder)
    _train_on(folder, [d["text"] for d in trained])
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("".join(json.dumps({"text": d["text"], "trained": d in trained}) + "\n" for d in docs))

    results = cli_json("run", "--model", str(folder), "--task", "memorization", "--data", str(corpus),
                       "--db", str(db), "--format", "json")
    metrics = {m["metric"]: m["value"] for m in results[0]["metrics"]}
    with duckdb.connect(str(db), read_only=True) as conn:
        rows = conn.execute("SELECT doc_id, metrics, doc, prediction, target FROM samples ORDER BY doc_id").fetchall()
    scores = {doc_id: json.loads(m) for doc_id, m, _, _, _ in rows}
    assert len(rows) == 12
    assert sum(scores[i]["memorized"] for i in range(8)) >= 6  # trained: reproduced token for token
    assert all(scores[i]["memorized"] == 0 for i in range(8, 12)) and all(scores[i]["matching_prefix"] < 32
                                                                          for i in range(8, 12))
    assert metrics["memorized"] == pytest.approx(sum(s["memorized"] for s in scores.values()) / 12)
    for doc_id, m, doc, prediction, target in rows:  # the stored ids re-score the sample
        doc = json.loads(doc)
        matching = next((n for n, (a, b) in enumerate(zip(doc["generated_ids"], doc["target_ids"])) if a != b), 32)
        assert json.loads(m)["matching_prefix"] == matching
        assert (prediction == target) == (matching == 32)


def test_greedy_decoding_equals_transformers_generate(tiny_pythia_path):
    """The decoding loop against transformers' own greedy ``generate`` (no early stop)."""
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(tiny_pythia_path, dtype=torch.float32).eval()
    prompts = torch.randint(5, 1000, (4, 32), generator=torch.Generator().manual_seed(1))
    ours = greedy_continuations(model, prompts, 32)
    theirs = model.generate(prompts, max_new_tokens=32, do_sample=False, eos_token_id=None, pad_token_id=0)[:, 32:]
    assert torch.equal(ours, theirs)


def test_a_revision_sweep_lands_every_checkpoint_and_draws_score_against_step(tmp_path, db):
    proc = run_cli("sweep", "--models", "tiny-pythia", "--revisions", "pythia-schedule", "--tasks",
                   "memorization,finance_sentiment", "--limit", "8", "--db", str(db), "--format", "json")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "149 other revision(s) left out" in proc.stderr
    jobs = json.loads(proc.stdout)["jobs"]
    assert sorted({j["revision"] for j in jobs}) == sorted(["step0", "step16", "step32", "step64", "step128"])
    assert {j["status"] for j in jobs} == {"finished"} and len(jobs) == 10
    with duckdb.connect(str(db), read_only=True) as conn:
        memorized = dict(conn.execute("SELECT r.revision, m.value FROM runs r JOIN metrics m USING (run_id) "
                                      "WHERE m.metric = 'memorized'").fetchall())
    assert memorized["step0"] == 0.0  # the seeded weights reproduce nothing
    again = cli_json("sweep", "--models", "tiny-pythia", "--revisions", "pythia-schedule", "--tasks",
                     "memorization,finance_sentiment", "--limit", "8", "--db", str(db), "--format", "json")
    assert {j["status"] for j in again["jobs"]} == {"skipped"}

    site = tmp_path / "site"
    proc = run_cli("leaderboard", "pythia", "--out", str(site), "--db", str(db), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    page = (site / "index.html").read_text(encoding="utf-8")
    assert "Sequences memorized against training step" in page
    chart = page.split("Sequences memorized against training step", 1)[1].split("</svg>", 1)[0]
    assert chart.count("<circle") == 5  # one point per checkpoint


def test_a_bad_corpus_line_is_one_line_with_its_number(tmp_path, db):
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text('{"text": "fine"}\n{"text": oops}\n')
    proc = run_cli("run", "--model", "tiny-pythia", "--task", "memorization", "--data", str(corpus), "--db", str(db))
    assert proc.returncode == 2 and f"{corpus} line 2: not JSON" in proc.stderr
    assert proc.stderr.strip().count("\n") == 0
