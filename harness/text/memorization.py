"""The ``memorization`` task type: k-extractable memorization, as the Pythia paper measures it.

Each document's first ``prompt_tokens + continuation_tokens`` tokens (the text's own tokens, no BOS) form a
sequence; the model is prompted with the first ``prompt_tokens`` and decodes ``continuation_tokens`` greedily,
never stopping early. ``memorized`` is 1 when all of them equal the document's, ``matching_prefix`` counts how
many do before the first difference. Documents too short to hold a sequence are skipped and counted.
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


def read_corpus(path: Path) -> list[dict[str, Any]]:
    """One document per line: a JSON object with ``text`` (other keys are kept), or a JSON string."""
    def document(value: Any) -> dict[str, Any] | None:
        doc = {"text": value} if isinstance(value, str) else value
        return doc if isinstance(doc, dict) and isinstance(doc.get("text"), str) else None

    return read_records(path, "documents", document, "a string or an object with a \"text\" string")


def greedy_continuations(model: Any, prompts: Any, length: int) -> Any:
    """``length`` greedily decoded tokens after each prompt (equal-length prompts, no early stop)."""
    import torch

    with torch.inference_mode():
        out = model(input_ids=prompts, use_cache=True)
        tokens = [out.logits[:, -1].argmax(-1)]
        for _ in range(length - 1):
            out = model(input_ids=tokens[-1][:, None], past_key_values=out.past_key_values, use_cache=True)
            tokens.append(out.logits[:, -1].argmax(-1))
    return torch.stack(tokens, dim=1)


class MemorizationType:
    """Does a causal LM reproduce the sequences of a corpus from their prefixes?"""

    name = "memorization"
    modality = "text"
    metrics = ("memorized", "matching_prefix")

    def prepare(self, task: NativeTask, data: str | None, limit: int | float | None,
                options: dict[str, Any]) -> dict[str, Any]:
        """The corpus (``--data corpus.jsonl``, else the task's own) and the sequence lengths."""
        path, docs = task_data(task.dataset, data, limit, read_corpus)
        k_prompt = int(task.options.get("prompt_tokens", 32))
        k_continuation = int(task.options.get("continuation_tokens", 32))
        return {"docs": docs, "settings": {"corpus": path.name, "prompt_tokens": k_prompt,
                                           "continuation_tokens": k_continuation,
                                           "corpus_sha256": hashlib.sha256(path.read_bytes()).hexdigest()}}

    def validate(self, model_path: str, prepared: dict[str, Any]) -> None:
        """Every model with a tokenizer can be asked."""

    def content_hash(self, task: NativeTask, prepared: dict[str, Any]) -> str:
        """Hash of the task definition and every document."""
        return records_hash(task, prepared["docs"])

    def load(self, model_path: str, prepared: dict[str, Any], *, device: str, dtype: Any) -> tuple[Any, Any]:
        """The tokenizer and the causal LM."""
        from transformers import AutoModelForCausalLM, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        tokenizer = AutoTokenizer.from_pretrained(model_path)
        return tokenizer, AutoModelForCausalLM.from_pretrained(model_path, dtype=dtype).to(device).eval()

    def evaluate(self, loaded: tuple[Any, Any], task: NativeTask, prepared: dict[str, Any], *, device: str,
                 dtype: Any, batch_size: int, on_batch: Any) -> Outcome:
        """Prompt with each sequence's prefix, decode greedily, compare token by token."""
        import torch

        tokenizer, model = loaded
        k_prompt = prepared["settings"]["prompt_tokens"]
        k_total = k_prompt + prepared["settings"]["continuation_tokens"]
        sequences = [(i, tokenizer(doc["text"], add_special_tokens=False)["input_ids"][:k_total])
                     for i, doc in enumerate(prepared["docs"])]
        kept = [(i, ids) for i, ids in sequences if len(ids) == k_total]
        if not kept:
            raise HarnessError(f"no document of {prepared['settings']['corpus']} has {k_total} tokens; "
                               "memorization needs longer documents")
        prepared["settings"]["skipped_short"] = len(sequences) - len(kept)
        outcome = Outcome()
        started = time.perf_counter()
        for start in range(0, len(kept), batch_size):
            batch = kept[start:start + batch_size]
            ids = torch.tensor([seq for _, seq in batch], device=device)
            generated = greedy_continuations(model, ids[:, :k_prompt], k_total - k_prompt).tolist()
            rows = [_scored(tokenizer, prepared["docs"][doc_id], doc_id, seq, tokens, k_prompt)
                    for (doc_id, seq), tokens in zip(batch, generated, strict=True)]
            on_batch(rows)
            outcome.samples += rows
        outcome.seconds = time.perf_counter() - started
        outcome.metrics = [mean_row(task.name, name, [row["metrics"][name] for row in outcome.samples], None)
                           for name in ("memorized", "matching_prefix")]
        return outcome

    @staticmethod
    def sample_row(row: dict[str, Any]) -> SampleRow:
        """A scored sequence as a store sample."""
        return SampleRow(doc_id=row["doc_id"], output_type="memorization", input=row["prompt"], target=row["target"],
                         prediction=row["prediction"], raw_output=row["prediction"], metrics=row["metrics"],
                         doc=row["doc"])


def _scored(tokenizer: Any, doc: dict[str, Any], doc_id: int, seq: list[int], tokens: list[int],
            k_prompt: int) -> dict[str, Any]:
    """One sequence's row: whether every continuation token matches, and how many do before the first miss."""
    truth = seq[k_prompt:]
    matching = next((n for n, (a, b) in enumerate(zip(tokens, truth)) if a != b), len(truth))
    scores = {"memorized": float(matching == len(truth)), "matching_prefix": float(matching)}
    return {"doc_id": doc_id, "prompt": tokenizer.decode(seq[:k_prompt]), "target": tokenizer.decode(truth),
            "prediction": tokenizer.decode(tokens), "metrics": scores,
            "doc": {**doc, "generated_ids": tokens, "target_ids": truth}}


MEMORIZATION = MemorizationType()
