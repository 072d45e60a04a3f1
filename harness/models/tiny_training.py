"""Local training checkpoints of a tiny twin, so Pythia's across-training questions run offline.

``tiny-pythia@stepN`` is the seeded twin after N steps of a short, seeded training run (AdamW, next-token
loss) on the trained documents of ``tasks/memorization/corpus.jsonl``; step0 is the seeded twin itself. All
of a twin's revisions come from one run, built on first use beside the twin. CPU float arithmetic differs
between machines, so a revision's fingerprint is the hash of the weights it holds, not a recorded one.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from harness.errors import HarnessError
from harness.registry.specs import ModelSpec
from harness.resources import tasks_dir

TRAINING = {"batch_size": 8, "tokens": 64, "learning_rate": 5e-3, "seed": 2023, "version": 1}


def corpus_path() -> Path:
    """The memorization corpus the revisions are trained on (its ``trained`` documents)."""
    return tasks_dir() / "memorization" / "corpus.jsonl"


def revisions(spec: ModelSpec) -> list[str]:
    """The local revisions a tiny twin offers (``stepN``), empty for most."""
    return [f"step{n}" for n in spec.tiny.revision_steps] if spec.tiny else []


def _recipe(spec: ModelSpec) -> str:
    recipe = {**TRAINING, "steps": spec.tiny.revision_steps,
              "corpus": hashlib.sha256(corpus_path().read_bytes()).hexdigest()}
    return hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:12]


def ensure_revision(spec: ModelSpec, revision: str) -> Path:
    """The folder of ``spec``'s local revision, training every revision on first use."""
    from harness.models.tiny import build_atomically, ensure_tiny

    offered = revisions(spec)
    if revision not in offered:
        have = f"it offers {', '.join(offered)}" if offered else "tiny twins have no revisions except tiny-pythia's"
        raise HarnessError(f"{spec.name} has no revision {revision!r}: {have}")
    base = ensure_tiny(spec)
    target = base.parent / f"{base.name}-revisions-{_recipe(spec)}"
    if not (target / "harness-tiny.json").exists():
        build_atomically(target, lambda staging: _train(spec, base, staging))
    return target / revision


def _train(spec: ModelSpec, base: Path, out: Path) -> None:
    """Train from the seeded twin, saving a checkpoint folder at each of the spec's steps."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    torch.manual_seed(TRAINING["seed"])
    tokenizer = AutoTokenizer.from_pretrained(base)
    model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
    docs = [json.loads(line) for line in corpus_path().read_text(encoding="utf-8").splitlines() if line.strip()]
    ids = [tokenizer(d["text"])["input_ids"][:TRAINING["tokens"]] for d in docs if d.get("trained")]
    batch_rows = torch.tensor([row for row in ids if len(row) == TRAINING["tokens"]])
    optimizer = torch.optim.AdamW(model.parameters(), lr=TRAINING["learning_rate"], weight_decay=0.0)
    order = torch.Generator().manual_seed(TRAINING["seed"])
    steps = sorted(spec.tiny.revision_steps)
    model.train()
    for step in range(steps[-1] + 1):
        if step in steps:
            folder = out / f"step{step}"
            model.save_pretrained(folder)
            tokenizer.save_pretrained(folder)
        if step == steps[-1]:
            break
        batch = batch_rows[torch.randperm(len(batch_rows), generator=order)[:TRAINING["batch_size"]]]
        loss = model(batch, labels=batch).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    (out / "harness-tiny.json").write_text(json.dumps({"name": spec.name, "training": TRAINING, "steps": steps}))
