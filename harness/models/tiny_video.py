"""The ``tiny-video-ldm`` twin: a text-to-video latent diffusion pipeline of ModelScope T2V's classes
(``TextToVideoSDPipeline``: ``UNet3DConditionModel``, ``AutoencoderKL``, a CLIP text encoder, DDIM), with small
configs and weights drawn like every other twin (NumPy, seeded per tensor name)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from harness.errors import HarnessError
from harness.models.weights import seeded_tensor, weights_sha256


def _components(config: dict[str, Any]) -> dict[str, Any]:
    from diffusers import AutoencoderKL, DDIMScheduler, UNet3DConditionModel
    from tokenizers import Tokenizer
    from transformers import CLIPTextConfig, CLIPTextModel, PreTrainedTokenizerFast

    from harness.models.tiny_tokenizer import COMMITTED

    tokenizer = PreTrainedTokenizerFast(tokenizer_object=Tokenizer.from_file(str(COMMITTED)), model_max_length=77,
                                        pad_token="<|endoftext|>", bos_token="<|endoftext|>",
                                        eos_token="<|endoftext|>")
    text = CLIPTextConfig(**config["text_encoder"])
    return {"unet": UNet3DConditionModel(**config["unet"]), "vae": AutoencoderKL(**config["vae"]),
            "text_encoder": CLIPTextModel(text), "tokenizer": tokenizer,
            "scheduler": DDIMScheduler(**config["scheduler"])}


def build_video_twin(name: str, config: dict[str, Any], init_std: float, expected: str | None, folder: Path) -> str:
    """Build, check against the recorded hash, and save the pipeline in ``folder``; return the weights hash."""
    import torch
    from diffusers import TextToVideoSDPipeline
    from diffusers.utils import logging as diffusers_logging

    diffusers_logging.set_verbosity_error()
    parts = _components(config)
    tensors: dict[str, np.ndarray] = {}
    for part in ("unet", "vae", "text_encoder"):
        module = parts[part]
        state = module.state_dict()
        values = {key: seeded_tensor(name, f"{part}.{key}", tuple(t.shape), init_std) for key, t in state.items()
                  if t.is_floating_point()}
        if part == "text_encoder":  # CLIP's fixed position ids and layer norms keep their meaning
            values = {k: v for k, v in values.items() if "position_ids" not in k}
        module.load_state_dict({k: torch.from_numpy(v) for k, v in values.items()}, strict=False)
        tensors |= {f"{part}.{k}": v for k, v in values.items()}
    digest = weights_sha256(tensors)
    if expected and digest != expected:
        raise HarnessError(f"tiny twin {name!r}: seeded weights hash {digest[:16]} differs from the recorded "
                           f"{expected[:16]}; this diffusers version names or shapes the pipeline differently")
    TextToVideoSDPipeline(**parts).save_pretrained(folder)
    (folder / "harness-tiny.json").write_text(json.dumps({"name": name, "weights_sha256": digest}))
    return digest
