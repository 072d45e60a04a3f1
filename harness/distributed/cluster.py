"""Joining an existing Ray cluster, or starting a local one, for sweeps and data-parallel engines."""

from __future__ import annotations

import logging
import os
from typing import Any

from harness.errors import HarnessError

# The driver's settings that workers need (offline mode, caches, tokens); on a cluster of several machines
# they must name paths that exist on every node.
FORWARDED_PREFIXES = ("HF_", "HARNESS_", "VLLM_", "TRANSFORMERS_", "OPENAI_")


def ray_module() -> Any:
    """``ray``, or one line saying how to install it."""
    os.environ.setdefault("RAY_DEDUP_LOGS", "0")  # each job's progress lines stay whole
    try:
        import ray
    except ImportError as exc:
        raise HarnessError("Ray is not installed: pip install 'harness[distributed]' (ray==2.60.0), "
                           "or use --executor local") from exc
    return ray


def forwarded_env() -> dict[str, str]:
    """The environment variables a worker inherits from the driver."""
    return {k: v for k, v in os.environ.items() if k.startswith(FORWARDED_PREFIXES)}


def connect(address: str | None = None) -> Any:
    """Join the cluster at ``address`` (or ``$RAY_ADDRESS``), else start a local one; returns ``ray``.

    Inside a Ray worker (a sweep job using data parallelism) the worker's own connection is reused.
    """
    ray = ray_module()
    if ray.is_initialized():
        return ray
    _probe(address or os.environ.get("RAY_ADDRESS"))
    try:
        ray.init(address=address, include_dashboard=False, log_to_driver=True, logging_level=logging.WARNING,
                 runtime_env={"env_vars": forwarded_env()})
    except (ConnectionError, ValueError, RuntimeError) as exc:
        where = address or os.environ.get("RAY_ADDRESS")
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if where:
            raise HarnessError(f"could not join the Ray cluster at {where}: {first}; start one with "
                               "'ray start --head' or drop --address to start a local cluster") from exc
        raise HarnessError(f"could not start a local Ray cluster: {first}") from exc
    return ray


def _probe(address: str | None) -> None:
    """Fail fast when a ``HOST:PORT`` cluster address has nothing listening (``ray.init`` would wait minutes)."""
    from harness.net import check_reachable

    if not address or address in ("auto", "local") or "://" in address or ":" not in address:
        return
    host, _, port = address.rpartition(":")
    if port.isdigit():
        check_reachable(host, int(port), "the Ray cluster at", "start one with 'ray start --head', or drop "
                        "--address to start a local cluster")


def unwrap(ray: Any, exc: BaseException) -> BaseException:
    """The error a Ray task or actor raised, without Ray's wrapper (so a HarnessError stays one line)."""
    cause = getattr(exc, "cause", None)
    if isinstance(exc, ray.exceptions.RayTaskError) and isinstance(cause, BaseException):
        return cause
    return exc


def cluster_gpus(ray: Any) -> int:
    """GPUs the cluster offers in total."""
    return int(ray.cluster_resources().get("GPU", 0))
