"""Offline tiny twins: real architecture classes, small configs, seeded weights.

Weights come from NumPy's PCG64 generator seeded per tensor name (not from
torch's or transformers' initialisers), so they are identical across torch and
transformers versions, and are checked against the hash recorded in the
catalog. A twin is built on first use in the cache folder and reused.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path

from harness.errors import HarnessError
from harness.models.chat_templates import CHAT_TEMPLATES
from harness.models.tiny_tokenizer import COMMITTED as TOKENIZER_JSON
from harness.models.tiny_video import build_video_twin
from harness.models.weights import SEED, seeded_tensor, weights_sha256
from harness.registry.specs import ModelSpec
from harness.resources import cache_dir

RECIPE_VERSION = 2


def _recipe_hash(spec: ModelSpec) -> str:
    recipe = {
        "name": spec.name, "architecture": spec.architecture, "tiny": spec.tiny.model_dump(exclude={"weights_sha256", "revision_steps"}),
        "chat_template": spec.chat_template, "seed": SEED, "version": RECIPE_VERSION,
        "tokenizer": hashlib.sha256(TOKENIZER_JSON.read_bytes()).hexdigest(),
    }
    return hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()


def tiny_path(spec: ModelSpec) -> Path:
    """The cache folder of a tiny twin (it may not be built yet)."""
    return cache_dir() / "tiny" / f"{spec.name}-{_recipe_hash(spec)[:12]}"


_EXPERTS = re.compile(r"^(model\.layers\.\d+)\.mlp\.(gate\.weight|experts\.gate_up_proj|experts\.down_proj)$")


def _mixtral_hub_layout(shapes: dict[str, tuple[int, ...]]) -> dict[str, tuple[int, ...]]:
    """Mixtral's published checkpoint layout (``block_sparse_moe.experts.E.w1/w2/w3``), which vLLM reads
    and transformers converts on load, instead of transformers' fused in-memory experts."""
    layout = {}
    for name, shape in shapes.items():
        match = _EXPERTS.match(name)
        if not match:
            layout[name] = shape
            continue
        prefix, part = match.group(1) + ".block_sparse_moe", match.group(2)
        if part == "gate.weight":
            layout[f"{prefix}.gate.weight"] = shape
        elif part == "experts.gate_up_proj":  # (experts, 2 * intermediate, hidden)
            for e in range(shape[0]):
                layout[f"{prefix}.experts.{e}.w1.weight"] = (shape[1] // 2, shape[2])
                layout[f"{prefix}.experts.{e}.w3.weight"] = (shape[1] // 2, shape[2])
        else:  # down_proj: (experts, hidden, intermediate)
            for e in range(shape[0]):
                layout[f"{prefix}.experts.{e}.w2.weight"] = (shape[1], shape[2])
    return layout


# Architectures whose published checkpoints name parameters differently from transformers' modules.
CHECKPOINT_LAYOUTS = {"MixtralForCausalLM": _mixtral_hub_layout}


def _build_tokenizer(spec: ModelSpec):
    from tokenizers import Tokenizer, processors
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer.from_file(str(TOKENIZER_JSON))
    if spec.tiny.tokenizer == "llama":
        tok.post_processor = processors.TemplateProcessing(
            single="<s> $A", pair="<s> $A <s> $B", special_tokens=[("<s>", tok.token_to_id("<s>"))]
        )
        names = dict(bos_token="<s>", eos_token="</s>", unk_token="<unk>")
    else:
        names = dict(bos_token="<|endoftext|>", eos_token="<|endoftext|>", unk_token="<|endoftext|>")
    template = CHAT_TEMPLATES[spec.chat_template] if spec.chat_template else None
    return PreTrainedTokenizerFast(tokenizer_object=tok, chat_template=template,
                                   model_max_length=spec.tiny.config.get("max_position_embeddings", 2048),
                                   **names)


def _build(spec: ModelSpec, folder: Path) -> str:
    import torch
    import transformers
    from safetensors.numpy import save_file

    config = getattr(transformers, spec.tiny.config_class)(**spec.tiny.config)
    config.architectures = [spec.architecture]
    config.dtype = "float32"
    with torch.device("meta"):
        skeleton = getattr(transformers, spec.architecture)(config)
    shapes = {name: tuple(t.shape) for name, t in skeleton.state_dict().items()}
    shapes = CHECKPOINT_LAYOUTS.get(spec.architecture, dict)(shapes)
    tensors = {name: seeded_tensor(spec.name, name, shape, spec.tiny.init_std) for name, shape in shapes.items()}
    for target, source in (getattr(skeleton, "all_tied_weights_keys", None) or {}).items():
        if target in tensors and source in tensors:  # tied in the architecture: one value
            tensors[target] = tensors[source].copy()
    digest = weights_sha256(tensors)
    expected = spec.tiny.weights_sha256
    if expected and digest != expected:
        raise HarnessError(
            f"tiny twin {spec.name!r}: seeded weights hash {digest[:16]} differs from the recorded "
            f"{expected[:16]}; this transformers version names or shapes {spec.architecture} parameters differently"
        )
    config.save_pretrained(folder)
    save_file(tensors, str(folder / "model.safetensors"), metadata={"format": "pt"})
    if spec.tiny.processor:
        options = dict(spec.tiny.processor)
        getattr(transformers, options.pop("class"))(**options).save_pretrained(folder)
    if spec.tiny.tokenizer:
        _build_tokenizer(spec).save_pretrained(folder)
    (folder / "harness-tiny.json").write_text(json.dumps({"name": spec.name, "weights_sha256": digest}))
    return digest


def ensure_tiny(spec: ModelSpec) -> Path:
    """Build the twin in the cache on first use (atomically, safe across processes); return its folder."""
    if spec.tiny is None:
        raise HarnessError(f"model {spec.name!r} is not a tiny twin")
    target = tiny_path(spec)
    if (target / "harness-tiny.json").exists():
        return target
    if spec.modality == "video":
        return build_atomically(target, lambda staging: build_video_twin(
            spec.name, spec.tiny.config, spec.tiny.init_std, spec.tiny.weights_sha256, staging))
    return build_atomically(target, lambda staging: _build(spec, staging))


def build_atomically(target: Path, build: Callable[[Path], object]) -> Path:
    """Run ``build`` in a staging folder beside ``target``, then rename it into place (another process that
    finished first wins; ``harness-tiny.json`` marks a finished build)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.parent / f".{target.name}.{os.getpid()}.partial"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        build(staging)
        try:
            os.rename(staging, target)
        except OSError:  # another process finished first
            if not (target / "harness-tiny.json").exists():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def tiny_weights_sha256(folder: Path) -> str:
    """The recorded weights hash of a built twin."""
    return json.loads((folder / "harness-tiny.json").read_text())["weights_sha256"]
