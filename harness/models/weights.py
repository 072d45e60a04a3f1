"""Seeded twin weights: each tensor drawn from NumPy's PCG64 seeded by its name, and the hash that checks them."""

from __future__ import annotations

import hashlib
import zlib

import numpy as np

SEED = 2023


def seeded_tensor(model_name: str, param_name: str, shape: tuple[int, ...], std: float = 0.2) -> np.ndarray:
    """The deterministic initial value of one parameter: ones for norm weights and running variances, zeros
    for biases and running means."""
    leaf = param_name.rsplit(".", 1)[-1]
    if leaf == "num_batches_tracked":
        return np.zeros(shape, dtype=np.int64)
    if leaf in ("bias", "running_mean"):
        return np.zeros(shape, dtype=np.float32)
    if leaf == "running_var":
        return np.ones(shape, dtype=np.float32)
    if len(shape) == 1 and "norm" in param_name:
        return np.ones(shape, dtype=np.float32)
    rng = np.random.default_rng([SEED, zlib.crc32(f"{model_name}/{param_name}".encode())])
    return rng.normal(0.0, std, size=shape).astype(np.float32)


def weights_sha256(tensors: dict[str, np.ndarray]) -> str:
    """Hash of tensor names, shapes, dtypes and bytes (independent of file layout)."""
    digest = hashlib.sha256()
    for name in sorted(tensors):
        array = np.ascontiguousarray(tensors[name])
        digest.update(f"{name}|{array.dtype}|{array.shape}|".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()
