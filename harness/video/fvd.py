"""FVD: I3D features of generated and reference clips, and the Fréchet distance between them.

The extractor is named and checksummed in every result. ``random`` builds the project's seeded random I3D
(shapes and pipeline only: its numbers are not comparable to published FVDs); a file is either the widely
used TorchScript export (``i3d_torchscript.pt``, called with ``rescale=False, resize=False,
return_features=True``) or a state dict of ``InceptionI3d`` (the pytorch-i3d layout).
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from harness.errors import HarnessError
from harness.metrics.frechet import feature_stats, frechet_distance
from harness.resources import cache_dir
from harness.video.io import preprocess

REFERENCE_COUNT = 2048
FEATURE_DIM = 400
CLIP_LENGTH = 16
SIZE = 224
I3D_SOURCE = ("the TorchScript I3D used by StyleGAN-V and DIGAN (i3d_torchscript.pt, published with their FVD "
              "code), or a Kinetics-400 state dict of pytorch-i3d's InceptionI3d (rgb_imagenet.pt)")


def default_i3d_path() -> Path:
    """Where the extractor is looked for when none is named: ``$HARNESS_CACHE/i3d/i3d_torchscript.pt``."""
    return cache_dir() / "i3d" / "i3d_torchscript.pt"


@dataclass(frozen=True)
class Extractor:
    """A loaded I3D and what identifies it in results."""

    module: Any
    name: str
    sha256: str
    torchscript: bool

    def __call__(self, clips: Any) -> Any:
        if self.torchscript:
            return self.module(clips, rescale=False, resize=False, return_features=True)
        return self.module(clips)


def load_extractor(spec: str | None, device: str) -> Extractor:
    """``random[:SEED]``, a file path, or None for :func:`default_i3d_path`; a missing file is one clear line."""
    import torch

    from harness.video.i3d import InceptionI3d, random_i3d

    if spec is not None and spec.split(":")[0] == "random":
        seed = int(spec.split(":")[1]) if ":" in spec else 0
        return Extractor(random_i3d(seed).to(device), f"random-i3d-seed{seed}", f"random:{seed}", False)
    path = Path(spec) if spec else default_i3d_path()
    if not path.is_file():
        raise HarnessError(f"I3D weights not found at {path}: download {I3D_SOURCE} and pass --i3d FILE (or put it "
                           f"there); --i3d random checks the pipeline only")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    try:
        with warnings.catch_warnings():  # torch marks TorchScript deprecated; the published I3D is TorchScript
            warnings.simplefilter("ignore", DeprecationWarning)
            return Extractor(torch.jit.load(str(path), map_location=device).eval(), path.name, digest, True)
    except RuntimeError:
        pass  # not TorchScript: a state dict
    model = InceptionI3d()
    try:
        model.load_state_dict(torch.load(str(path), map_location="cpu", weights_only=True))
    except (RuntimeError, ValueError, KeyError) as exc:
        raise HarnessError(f"{path}: neither a TorchScript I3D nor an InceptionI3d state dict ({str(exc)[:200]})") from exc
    return Extractor(model.to(device).eval(), path.name, digest, False)


def extract(extractor: Extractor, clips: list[np.ndarray], *, device: str, batch_size: int = 8,
            progress: Callable[[int], None] = lambda n: None) -> np.ndarray:
    """(N, 400) float64 features of uint8 clips (T, H, W, 3), in batches."""
    import torch

    features = []
    with torch.no_grad():
        for start in range(0, len(clips), batch_size):
            batch = preprocess(np.stack(clips[start:start + batch_size]), SIZE).to(device)
            features.append(extractor(batch).double().cpu().numpy())
            progress(len(batch))
    return np.concatenate(features) if features else np.zeros((0, FEATURE_DIM))


def fvd(generated: np.ndarray, reference: np.ndarray, ddof: int = 1) -> float:
    """The Fréchet distance between two feature sets (covariances divided by N − ``ddof``)."""
    return frechet_distance(feature_stats(generated, ddof), feature_stats(reference, ddof))


def count_warnings(n_generated: int, n_reference: int) -> list[str]:
    """Warnings about sample counts below the reference or below the feature dimension."""
    warnings = []
    for label, n in (("generated", n_generated), ("reference", n_reference)):
        if n < REFERENCE_COUNT:
            warnings.append(f"{n} {label} clips, fewer than the reference {REFERENCE_COUNT}: FVD is biased upwards "
                            "and not comparable to published numbers")
        if n <= FEATURE_DIM:
            warnings.append(f"{n} {label} clips, not more than the {FEATURE_DIM} feature dimensions: the covariance "
                            "is singular")
    return warnings
