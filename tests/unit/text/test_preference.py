"""DPO-style preference evaluation: preference accuracy, the implicit reward against a reference model."""

from __future__ import annotations

import json
import re

import duckdb
import pytest
import torch

from harness.models.resolve import resolve_model
from harness.text.preference import dpo_margin
from tests.helpers import cli_json, run_cli, task_module

TASK = "preference_helpful_harmless"


def test_the_triples_are_committed_generator_output_with_correct_helpful_answers():
    generate = task_module("preference", "generate")
    committed = [json.loads(line) for line in (generate.HERE / "helpful_harmless.jsonl").read_text().splitlines()]
    assert committed == generate.triples() and len(committed) >= 200
    assert {t["category"] for t in committed} == {"helpful", "harmless"}
    assert all(t["chosen"] != t["rejected"] for t in committed)
    for t in committed:
        product = re.fullmatch(r"What is (\d+) times (\d+)\?", t["prompt"])
        if product:
            a, b = map(int, product.groups())
            assert t["chosen"] == f"{a} times {b} is {a * b}."
            assert str(a * b) not in t["rejected"]
        metres = re.fullmatch(r"How many centimetres are in (\d+) metres\?", t["prompt"])
        if metres:
            assert f"{int(metres.group(1)) * 100} centimetres" in t["chosen"]
            assert f"{int(metres.group(1)) * 100} centimetres" not in t["rejected"]


def test_dpo_margin_is_the_papers_formula():
    assert dpo_margin((-10.0, -12.0), (-11.0, -11.0), 0.1) == pytest.approx(0.1 * ((-10 + 11) - (-12 + 11)))
    assert dpo_margin((-5.0, -5.0), (-5.0, -5.0), 0.5) == 0.0
    assert dpo_margin((-12.0, -10.0), (-11.0, -11.0), 0.1) < 0  # the policy moved towards the rejected reply


def _sum_logprob(model, tokenizer, context: str, reply: str) -> float:
    """log p(reply | context) from one forward pass, tokenising the whole text as lm-eval does (the context's
    trailing whitespace, the template's newline here, moves into the scored reply; it cancels in every metric)."""
    context, reply = context.rstrip(), context[len(context.rstrip()):] + reply
    whole = tokenizer(context + reply, add_special_tokens=True)["input_ids"]
    n_context = len(tokenizer(context, add_special_tokens=True)["input_ids"])
    with torch.no_grad():
        logits = model(torch.tensor([whole])).logits[0].double().log_softmax(-1)
    return sum(logits[pos - 1, whole[pos]].item() for pos in range(n_context, len(whole)))


def test_tiny_zephyr_against_tiny_mistral_reports_every_metric_consistently(db):
    results = cli_json("run", "--model", "tiny-zephyr", "--reference", "tiny-mistral", "--task", TASK, "--limit",
                       "30", "--db", str(db), "--format", "json")
    metrics = {m["metric"]: m["value"] for m in results[0]["metrics"]}
    assert {"pref_acc", "pref_acc_norm", "reward_acc", "reward_margin", "pref_acc_helpful"} <= set(metrics)
    with duckdb.connect(str(db), read_only=True) as conn:
        settings = json.loads(conn.execute("SELECT settings FROM runs").fetchone()[0])
        rows = conn.execute("SELECT input, choices, loglikelihoods, doc FROM samples ORDER BY doc_id").fetchall()
    assert settings["beta"] == 0.1 and settings["reference"] == "tiny-mistral"
    assert settings["reference_fingerprint"] == resolve_model("tiny-mistral").fingerprint
    policy = [json.loads(r[2]) for r in rows]
    reference = [json.loads(r[3])["reference_loglikelihoods"] for r in rows]
    assert metrics["pref_acc"] == pytest.approx(sum(c > r for c, r in policy) / 30)
    margins = [0.1 * ((c - rc) - (r - rr)) for (c, r), (rc, rr) in zip(policy, reference)]
    assert metrics["reward_margin"] == pytest.approx(sum(margins) / 30)
    assert metrics["reward_acc"] == pytest.approx(sum(m > 0 for m in margins) / 30)
    # the chat template is applied, and the stored log-likelihoods are the model's own
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = resolve_model("tiny-zephyr").path
    tokenizer, model = AutoTokenizer.from_pretrained(path), AutoModelForCausalLM.from_pretrained(path).eval()
    for context, choices, lls, _ in rows[:3]:
        assert context.startswith("<|user|>") and context.rstrip().endswith("<|assistant|>")
        for reply, stored in zip(json.loads(choices), json.loads(lls)):
            assert _sum_logprob(model, tokenizer, context, reply) == pytest.approx(stored, abs=1e-4)


def test_the_registry_names_the_reference_and_beta_scales_the_margin(db, tmp_path):
    one = cli_json("run", "--model", "tiny-zephyr", "--task", TASK, "--limit", "8", "--db", str(db), "--format",
                   "json")
    other = cli_json("run", "--model", "tiny-zephyr", "--task", TASK, "--limit", "8", "--beta", "0.5", "--db",
                     str(tmp_path / "b.duckdb"), "--format", "json")
    margin = {r: next(m["value"] for m in res[0]["metrics"] if m["metric"] == "reward_margin")
              for r, res in (("a", one), ("b", other))}
    assert margin["b"] == pytest.approx(5 * margin["a"])
    with duckdb.connect(str(db), read_only=True) as conn:
        assert json.loads(conn.execute("SELECT settings FROM runs").fetchone()[0])["reference"] == "tiny-mistral"


def test_without_a_reference_only_preference_accuracy_is_reported(db):
    results = cli_json("run", "--model", "tiny-llama-2", "--task", TASK, "--limit", "6", "--db", str(db),
                       "--format", "json")
    assert {m["metric"] for m in results[0]["metrics"]} >= {"pref_acc", "pref_acc_norm"}
    assert not {"reward_acc", "reward_margin"} & {m["metric"] for m in results[0]["metrics"]}


@pytest.mark.parametrize("args, message", [
    (["--reference", "tiny-pythia"], "has another tokenizer than the model"),
    (["--beta", "0"], "--beta 0 must be positive"),
    (["--data", "missing.jsonl"], "no such file"),
])
def test_bad_preference_input_is_one_line_and_writes_nothing(db, args, message):
    proc = run_cli("run", "--model", "tiny-zephyr", "--task", TASK, "--db", str(db), *args)
    assert proc.returncode == 2 and message in proc.stderr, proc.stderr
    assert proc.stderr.strip().count("\n") == 0
    assert not db.exists()  # bad input fails while planning, before the store is created
