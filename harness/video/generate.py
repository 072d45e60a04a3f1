"""Clips from open video latent diffusion models through diffusers pipelines.

Text-to-video pipelines (ModelScope T2V, Zeroscope, the ``tiny-video-ldm`` twin) take a prompt; image-to-video
pipelines (Stable Video Diffusion) take an image, here the first frame of a reference clip. Every clip has its
own seed, recorded with it.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np


def load_pipeline(path: str, device: str, dtype: Any) -> Any:
    """A diffusers pipeline from a local folder, quiet."""
    from diffusers import DiffusionPipeline
    from diffusers.utils import logging as diffusers_logging
    from transformers.utils import logging as hf_logging

    for library in (diffusers_logging, hf_logging):
        library.set_verbosity_error()
        library.disable_progress_bar()
    pipe = DiffusionPipeline.from_pretrained(path, dtype=dtype).to(device)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def generate(pipe: Any, prompts: list[str], seeds: list[int], *, num_frames: int, height: int, width: int,
             steps: int, conditioning: list[np.ndarray] | None = None,
             progress: Callable[[int], None] = lambda n: None) -> list[np.ndarray]:
    """One uint8 clip (T, H, W, 3) per prompt and seed."""
    import torch
    from PIL import Image

    takes_image = "image" in inspect.signature(pipe.__call__).parameters
    clips = []
    for index, (prompt, seed) in enumerate(zip(prompts, seeds)):
        kwargs: dict[str, Any] = {"num_frames": num_frames, "height": height, "width": width,
                                  "num_inference_steps": steps, "output_type": "np",
                                  "generator": torch.Generator(device="cpu").manual_seed(seed)}
        if takes_image:
            if not conditioning:
                raise ValueError("an image-to-video pipeline needs reference clips to take first frames from")
            kwargs["image"] = Image.fromarray(conditioning[index % len(conditioning)][0])
        else:
            kwargs["prompt"] = prompt
        frames = np.asarray(pipe(**kwargs).frames)[0]
        clips.append((np.clip(frames, 0, 1) * 255).round().astype(np.uint8))
        progress(1)
    return clips
