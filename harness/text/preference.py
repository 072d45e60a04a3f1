"""The ``preference`` task type: does a model prefer the chosen reply of a (prompt, chosen, rejected) triple?

Each prompt is a user turn, rendered with the model's chat template (or HH's ``Human: ...\\n\\nAssistant:``
without one); a reply's log-likelihood is summed over its tokens as lm-eval scores a continuation (the
transformers backend). ``pref_acc``: share of triples whose chosen reply is more likely than the rejected one;
``pref_acc_norm``: the same on log-likelihood per character (lm-eval's acc_norm); ``pref_acc_CATEGORY`` per
category. With a reference model (DPO's reference policy; the registry's ``dpo_reference`` by default), the
implicit reward margin β·[(log π(c) − log π_ref(c)) − (log π(r) − log π_ref(r))] per triple, on the same
text for both models: ``reward_acc`` (margin > 0) and ``reward_margin`` (its mean).
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import Any

from harness.errors import HarnessError
from harness.metrics.rows import mean_row
from harness.records import Outcome, SampleRow
from harness.registry.native_tasks import NativeTask
from harness.text.jsonl import read_records, records_hash, task_data

HH_FORMAT = "Human: {prompt}\n\nAssistant:"


def read_triples(path: Path) -> list[dict[str, Any]]:
    """One JSON object per line with ``prompt``, ``chosen`` and ``rejected`` strings (``category`` optional)."""
    def triple(value: Any) -> dict[str, Any] | None:
        keys = ("prompt", "chosen", "rejected")
        return value if isinstance(value, dict) and all(isinstance(value.get(k), str) for k in keys) else None

    return read_records(path, "triples", triple, "an object with \"prompt\", \"chosen\" and \"rejected\" strings")


def dpo_margin(policy: tuple[float, float], reference: tuple[float, float], beta: float) -> float:
    """DPO's implicit reward of the chosen reply minus the rejected one's: β·[(π_c − ref_c) − (π_r − ref_r)]."""
    return beta * ((policy[0] - reference[0]) - (policy[1] - reference[1]))


def _scorer(model_path: str, *, device: str, dtype: Any, batch_size: int = 8) -> Any:
    """The transformers backend over a checkpoint folder, to score (context, continuation) pairs."""
    from harness.backends.hf import TransformersBackend
    from harness.models.resolve import ResolvedModel

    return TransformersBackend(ResolvedModel(model_path, model_path, "", "local"), device=device,
                               dtype=str(dtype).removeprefix("torch."), batch_size=batch_size)


def _loglikelihoods(backend: Any, requests: list[tuple[str, str]]) -> list[float]:
    """Summed log-likelihood of each (context, continuation); the backend is closed afterwards."""
    values = [0.0] * len(requests)
    try:
        for positions, results in backend.loglikelihood(requests):
            for pos, (ll, _greedy) in zip(positions, results, strict=True):
                values[pos] = ll
    finally:
        backend.close()
    return values


def _format(tokenizer: Any, prompts: list[str]) -> tuple[list[str], str]:
    """Contexts for the prompts, and the text between a context and a reply."""
    if not tokenizer.chat_template:
        return [HH_FORMAT.format(prompt=p) for p in prompts], " "
    return [tokenizer.apply_chat_template([{"role": "user", "content": p}], tokenize=False,
                                          add_generation_prompt=True) for p in prompts], ""


class PreferenceType:
    """Preference accuracy and DPO's implicit reward over (prompt, chosen, rejected) triples."""

    name = "preference"
    modality = "text"
    metrics = ("pref_acc", "pref_acc_norm", "reward_acc", "reward_margin")

    def prepare(self, task: NativeTask, data: str | None, limit: int | float | None,
                options: dict[str, Any]) -> dict[str, Any]:
        """The triples (``--data``, else the task's own), the reference model and β."""
        from harness.models.resolve import resolve_model
        from harness.registry import all_models

        path, triples = task_data(task.dataset, data, limit, read_triples)
        spec = all_models().get(str(options.get("model") or "").partition("@")[0])
        reference = options.get("reference") or (spec.dpo_reference if spec else None)
        beta = float(options["beta"]) if options.get("beta") is not None else float(task.options.get("beta", 0.1))
        if beta <= 0:
            raise HarnessError(f"--beta {beta:g} must be positive (DPO's β; 0.1 by default)")
        settings: dict[str, Any] = {"data": path.name, "data_sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
                                    "beta": beta, "reference": reference, "reference_fingerprint": None}
        reference_path = None
        if reference is not None:
            resolved = resolve_model(reference)
            reference_path, settings["reference_fingerprint"] = resolved.path, resolved.fingerprint
        return {"triples": triples, "reference_path": reference_path, "settings": settings}

    def validate(self, model_path: str, prepared: dict[str, Any]) -> None:
        """A reference must share the model's tokenizer: the reward compares log-probabilities of the same tokens."""
        from transformers import AutoTokenizer

        if prepared["reference_path"] is None:
            return
        ours, theirs = (AutoTokenizer.from_pretrained(p) for p in (model_path, prepared["reference_path"]))
        probe = HH_FORMAT.format(prompt=prepared["triples"][0]["prompt"]) + " " + prepared["triples"][0]["chosen"]
        if ours.get_vocab() != theirs.get_vocab() or ours(probe)["input_ids"] != theirs(probe)["input_ids"]:
            raise HarnessError(f"--reference {prepared['settings']['reference']} has another tokenizer than the "
                               "model; DPO's reward needs the reference policy the model was trained from")

    def content_hash(self, task: NativeTask, prepared: dict[str, Any]) -> str:
        """Hash of the task definition and every triple."""
        return records_hash(task, prepared["triples"])

    def load(self, model_path: str, prepared: dict[str, Any], *, device: str, dtype: Any) -> Any:
        """The model under test, as a scorer (the reference loads after it, once the model is released)."""
        return _scorer(model_path, device=device, dtype=dtype)

    def evaluate(self, loaded: Any, task: NativeTask, prepared: dict[str, Any], *, device: str, dtype: Any,
                 batch_size: int, on_batch: Any) -> Outcome:
        """Score both replies with the model (and the reference), then compare."""
        triples, beta = prepared["triples"], prepared["settings"]["beta"]
        contexts, joint = _format(loaded.tokenizer, [t["prompt"] for t in triples])
        requests = [(ctx, joint + t[key]) for ctx, t in zip(contexts, triples) for key in ("chosen", "rejected")]
        started = time.perf_counter()
        loaded.batch_size = batch_size
        policy = _loglikelihoods(loaded, requests)
        reference = None
        if prepared["reference_path"] is not None:
            reference = _loglikelihoods(_scorer(prepared["reference_path"], device=device, dtype=dtype,
                                                batch_size=batch_size), requests)
        outcome = Outcome(seconds=time.perf_counter() - started)
        for i, (context, triple) in enumerate(zip(contexts, triples, strict=True)):
            pair = (policy[2 * i], policy[2 * i + 1])
            ref_pair = (reference[2 * i], reference[2 * i + 1]) if reference is not None else None
            outcome.samples.append(_scored(i, context, triple, pair, ref_pair, beta))
        on_batch(outcome.samples)
        per_metric: dict[str, list[float]] = {}
        for row in outcome.samples:
            for name, value in row["metrics"].items():
                per_metric.setdefault(name, []).append(value)
        outcome.metrics = [mean_row(task.name, name, values) for name, values in per_metric.items()]
        return outcome

    @staticmethod
    def sample_row(row: dict[str, Any]) -> SampleRow:
        """A scored triple as a multiple-choice sample: choices (chosen, rejected), target 0."""
        return SampleRow(doc_id=row["doc_id"], output_type="preference", input=row["context"],
                         choices=row["choices"], target=0, prediction=row["prediction"],
                         loglikelihoods=row["loglikelihoods"], metrics=row["metrics"], doc=row["doc"])


def _scored(i: int, context: str, triple: dict[str, Any], pair: tuple[float, float],
            ref_pair: tuple[float, float] | None, beta: float) -> dict[str, Any]:
    """One triple's row: preference (raw and per character) and, with a reference, DPO's reward margin."""
    normed = (pair[0] / max(len(triple["chosen"]), 1), pair[1] / max(len(triple["rejected"]), 1))
    scores = {"pref_acc": float(pair[0] > pair[1]), "pref_acc_norm": float(normed[0] > normed[1])}
    doc = {**triple, "context": context}
    if ref_pair is not None:
        margin = dpo_margin(pair, ref_pair, beta)
        scores |= {"reward_acc": float(margin > 0), "reward_margin": margin}
        doc["reference_loglikelihoods"] = list(ref_pair)
    if triple.get("category"):
        scores[f"pref_acc_{triple['category']}"] = scores["pref_acc"]
    return {"doc_id": i, "context": context, "choices": [triple["chosen"], triple["rejected"]],
            "loglikelihoods": list(pair), "prediction": 0 if pair[0] > pair[1] else 1, "metrics": scores, "doc": doc}


PREFERENCE = PreferenceType()
