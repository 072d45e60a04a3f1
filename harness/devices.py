"""Device and dtype choices shared by every local model runner."""

from __future__ import annotations

import torch

from harness.errors import HarnessError

_DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16,
           "fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}


def pick_device(device: str) -> str:
    """``auto`` means the first GPU when there is one, else the CPU."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise HarnessError(f"--device {device} asked for, but torch sees no CUDA GPU; use --device cpu")
    return device


def pick_dtype(dtype: str, device: str, preferred: str) -> torch.dtype:
    """``auto`` is the registry's dtype on GPU and float32 on CPU."""
    if dtype == "auto":
        return _DTYPES[preferred] if device.startswith("cuda") else torch.float32
    if dtype not in _DTYPES:
        raise HarnessError(f"unknown --dtype {dtype!r}; use auto, float32, float16 or bfloat16")
    return _DTYPES[dtype]
