"""Content-debiased FVD features (Ge et al. 2024): a VideoMAE encoder instead of I3D.

A transformers ``VideoMAEModel`` checkpoint folder (``--videomae DIR``; VideoMAE-v2 weights converted to
that class, or any VideoMAE) embeds each 16-frame 224×224 clip, normalised with ImageNet's mean and standard
deviation; the feature is the mean of the encoder's last hidden states. The folder is named and checksummed
in the result.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from harness.errors import HarnessError

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def folder_sha256(folder: Path) -> str:
    """Hash of every file in a checkpoint folder (names and bytes)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def load_videomae(path: str, device: str) -> tuple[Any, dict[str, str]]:
    """The encoder and what identifies it; a missing or foreign folder is one clear line."""
    from transformers import VideoMAEModel
    from transformers.utils import logging as hf_logging

    folder = Path(path)
    if not (folder / "config.json").is_file():
        raise HarnessError(f"--videomae {path}: no VideoMAE checkpoint folder there (config.json and weights of a "
                           "transformers VideoMAEModel, e.g. VideoMAE-v2 converted to that class)")
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    model = VideoMAEModel.from_pretrained(folder).to(device).eval()
    return model, {"videomae": folder.name, "videomae_sha256": folder_sha256(folder)}


def videomae_features(model: Any, clips: list[np.ndarray], *, device: str, batch_size: int = 8,
                      progress: Callable[[int], None] = lambda n: None) -> np.ndarray:
    """(N, hidden) float64 features of uint8 clips (T, H, W, 3)."""
    import torch

    from harness.video.io import preprocess

    mean = torch.tensor(IMAGENET_MEAN).view(1, 1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD).view(1, 1, 3, 1, 1)
    features = []
    with torch.no_grad():
        for start in range(0, len(clips), batch_size):
            x = (preprocess(np.stack(clips[start:start + batch_size])) + 1) / 2  # N, C, T, H, W in [0, 1]
            x = ((x.permute(0, 2, 1, 3, 4) - mean) / std).to(device)  # N, T, C, H, W
            hidden = model(pixel_values=x).last_hidden_state
            features.append(hidden.mean(dim=1).double().cpu().numpy())
            progress(len(x))
    return np.concatenate(features)
