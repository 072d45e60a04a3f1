"""What a checkpoint folder says about itself, read from its config files without loading weights or tokenizers:
the context length lm-eval's ``hf`` model and vLLM derive, and the chat template."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from harness.errors import HarnessError

TOKENIZER_INFINITY = 1000000000000000019884624838656  # transformers' "no limit" model_max_length
# Keys vLLM reads a context length from (``vllm.config.model``), the smallest one present wins.
_VLLM_LENGTH_KEYS = ("max_position_embeddings", "n_positions", "max_seq_len", "seq_length", "model_max_length",
                     "max_sequence_length", "max_seq_length", "seq_len")


def read_json(folder: str | Path, name: str) -> dict[str, Any]:
    """A JSON file of a checkpoint folder ({} when absent), or one line naming the broken file."""
    path = Path(folder) / name
    if not path.is_file():
        return {}
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise HarnessError(f"{path} is not valid JSON ({exc}); re-download or fix the checkpoint") from exc
    return value if isinstance(value, dict) else {}


_LM_EVAL_LENGTH_KEYS = ("n_positions", "max_position_embeddings", "n_ctx")


def _config(folder: str | Path) -> dict[str, Any]:
    """The text model's config: ``config.json`` as written (``text_config`` for composite models); when it names
    no context length, as transformers reads it, with its class's defaults (slower: imports the config class)."""
    raw = read_json(folder, "config.json")
    text = raw.get("text_config") or raw
    if any(text.get(key) is not None for key in _LM_EVAL_LENGTH_KEYS):
        return text
    from transformers import AutoConfig

    try:
        config = AutoConfig.from_pretrained(str(folder))
    except (ValueError, KeyError, OSError):
        return text
    return (getattr(config, "text_config", None) or config).to_dict()


def lm_eval_max_length(folder: str | Path, default: int = 2048) -> int:
    """lm-eval's ``resolve_max_length``: the config's n_positions, max_position_embeddings or n_ctx, else the
    tokenizer's model_max_length, else ``default``."""
    config = _config(folder)
    for key in _LM_EVAL_LENGTH_KEYS:
        if config.get(key) is not None:
            return int(config[key])
    limit = read_json(folder, "tokenizer_config.json").get("model_max_length")
    if limit is not None and limit != TOKENIZER_INFINITY:
        return int(limit)
    return default


def vllm_max_model_len(folder: str | Path) -> int:
    """The context length vLLM derives for a checkpoint: the smallest length key of its config, capped by the
    tokenizer's model_max_length (2048 when the config has none). RoPE scaling factors are not applied; an engine
    that disagrees fails the run (pass --max-model-len to pin it)."""
    config = read_json(folder, "config.json")
    config = config.get("text_config") or config
    found = [int(config[key]) for key in _VLLM_LENGTH_KEYS if isinstance(config.get(key), (int, float))]
    derived = min(found) if found else 2048
    limit = read_json(folder, "tokenizer_config.json").get("model_max_length")
    return min(derived, int(limit)) if isinstance(limit, (int, float)) and found else derived


_FILES = {"weights": ("*.safetensors", "*.bin", "*.pt", "*.pth"),
          "tokenizer": ("tokenizer.json", "tokenizer_config.json", "*.model", "vocab.*", "merges.txt"),
          "config": ("config.json",)}
_FILES["model"] = _FILES["weights"] + _FILES["config"]


@contextmanager
def loading(folder: str | Path, what: str) -> Iterator[None]:
    """Turn a failure while loading a checkpoint's ``what`` (weights, tokenizer, config) into one line naming
    the folder and its files of that kind."""
    try:
        yield
    except HarnessError:
        raise
    except Exception as exc:  # transformers, safetensors and tokenizers raise many types for a broken file
        files = sorted({p.name for pattern in _FILES.get(what, ()) for p in Path(folder).glob(pattern)})
        named = f" ({', '.join(files)})" if files else " (no such files)"
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise HarnessError(f"could not load the {what} in {folder}{named}: {first}; re-download or rebuild the "
                           "checkpoint") from exc
