"""The request cache's keys: a namespace (the weights and the output-affecting settings) and, under it, one key
per request. Runs and the store's migrations compute them the same way."""

from __future__ import annotations

import hashlib
import json
from typing import Any


def cache_namespace(fingerprint: str, backend: str, engine: dict[str, Any], output_args: dict[str, Any]) -> str:
    """What, besides the request, determines a response: the weights and the output-affecting settings."""
    device = str(engine.get("device", "")).split(":")[0]
    return json.dumps([fingerprint, backend, engine["dtype"], device, engine.get("max_length"), output_args],
                      sort_keys=True, default=str)


def cache_key(namespace: str | None, request_type: str, args: tuple | list) -> str | None:
    """Key of a request's response; None when it must not be cached (sampling without a fixed seed)."""
    if namespace is None:
        return None
    if request_type == "generate_until":
        kwargs = args[1] if len(args) > 1 and isinstance(args[1], dict) else {}
        sampled = kwargs.get("do_sample") or float(kwargs.get("temperature") or 0) > 0
        if sampled and kwargs.get("seed") is None:
            return None
    text = json.dumps([namespace, request_type, list(args)], sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()
