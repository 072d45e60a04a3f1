"""Stored values as short readable text for the site: numbers rounded, nested settings flattened to key/value rows.

>>> readable(0.123456789), readable(467.3812), readable(123456.7), readable(True), readable(["a\\nb", 1])
('0.1235', '467.4', '123,457', 'true', '["a\\\\nb", 1]')
>>> flatten({"seed": 1234, "gen_kwargs": {"until": ["</s>"], "temperature": 0.0}, "model_args": {}})
[('seed', '1234'), ('gen_kwargs.until', '["</s>"]'), ('gen_kwargs.temperature', '0'), ('model_args', '{}')]
"""

from __future__ import annotations

import json
import math
from typing import Any

DIGITS = 4  # significant digits of a float


def number(value: float) -> str:
    """A float to ``DIGITS`` significant digits; from 10,000 up, the whole number with thousands separators."""
    if not math.isfinite(value):
        return str(value)
    if abs(value) >= 10 ** DIGITS:
        return f"{round(value):,}"
    return f"{value:.{DIGITS}g}"


def _rounded(value: Any) -> Any:
    """``value`` with every float inside rounded to ``DIGITS`` significant digits (for JSON text)."""
    if isinstance(value, float) and math.isfinite(value):
        return float(f"{value:.{DIGITS}g}")
    if isinstance(value, dict):
        return {key: _rounded(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_rounded(item) for item in value]
    return value


def readable(value: Any) -> str:
    """One stored value as text: strings verbatim, floats rounded, booleans and null as in JSON, lists and dicts as
    compact JSON (so a string's newlines and quotes stay visible)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return number(value)
    if isinstance(value, (str, int)):
        return str(value)
    return json.dumps(_rounded(value), ensure_ascii=False, default=str)


def flatten(value: Any, prefix: str = "") -> list[tuple[str, str]]:
    """Key/value rows of a nested mapping: nested keys joined with dots, leaves made ``readable``."""
    if not isinstance(value, dict):
        return [(prefix, readable(value))]
    if not value:
        return [(prefix, "{}")] if prefix else []
    rows: list[tuple[str, str]] = []
    for key, item in value.items():
        rows.extend(flatten(item, f"{prefix}.{key}" if prefix else str(key)))
    return rows
