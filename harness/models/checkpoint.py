"""What a checkpoint folder says about itself, read from its config files without loading weights or tokenizers:
the context length lm-eval's ``hf`` model and vLLM derive, and the chat template."""

from __future__ import annotations

import json
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


def _config(folder: str | Path) -> Any:
    """The model config as transformers reads it (class defaults filled in), or the raw JSON when its class is
    unknown here."""
    from transformers import AutoConfig

    try:
        config = AutoConfig.from_pretrained(str(folder))
    except (ValueError, KeyError, OSError):
        return read_json(folder, "config.json")
    text = getattr(config, "text_config", None) or config
    return text.to_dict()


def lm_eval_max_length(folder: str | Path, default: int = 2048) -> int:
    """lm-eval's ``resolve_max_length``: the config's n_positions, max_position_embeddings or n_ctx, else the
    tokenizer's model_max_length, else ``default``."""
    config = _config(folder)
    for key in ("n_positions", "max_position_embeddings", "n_ctx"):
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
