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


def check_gpus(model: str, min_gpus: int, engine_gpus: int, visible: int) -> None:
    """Refuse a GPU run that cannot fit before anything loads.

    ``min_gpus`` is the registry's need in bfloat16, ``engine_gpus`` what one engine asks for
    (tensor × pipeline parallel size), ``visible`` the GPUs this process (or cluster) sees.
    """
    if visible < min_gpus:
        raise HarnessError(f"{model} needs at least {min_gpus} GPUs of 80 GB in bfloat16 and {visible} "
                           f"{'is' if visible == 1 else 'are'} visible; run it where {min_gpus} are (a Ray "
                           "cluster: harness sweep --executor ray), or try its tiny twin")
    if engine_gpus > visible:
        raise HarnessError(f"--tensor-parallel-size × --pipeline-parallel-size asks for {engine_gpus} GPUs and "
                           f"{visible} {'is' if visible == 1 else 'are'} visible; lower them")
    if engine_gpus < min_gpus:
        raise HarnessError(f"--tensor-parallel-size × --pipeline-parallel-size gives {model} {engine_gpus} GPU(s); "
                           f"it needs {min_gpus} in bfloat16 (leave both out to use {min_gpus})")


def peak_memory_mb(device: str) -> float:
    """Peak memory of this process so far: torch's maximum allocated on a GPU, else the peak resident set size."""
    if device.startswith("cuda"):
        return torch.cuda.max_memory_allocated(torch.device(device)) / 2 ** 20
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB
