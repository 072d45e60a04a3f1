"""Credentials in URLs (``http://user:password@host/v1``) never reach the store, a report or the terminal."""

from __future__ import annotations

import re

# The user-info part of any URL in a text: scheme://USER[:PASSWORD]@
_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)[^/@\s]+@")
# The same rewrite as DuckDB SQL (the store's migration of stored text).
SQL_PATTERN, SQL_REPLACEMENT = r"([A-Za-z][A-Za-z0-9+.-]*://)[^/@\s]+@", r"\1***@"


def redact(text: str | None) -> str | None:
    """``text`` with the credentials of every URL in it replaced by ``***``."""
    return None if text is None else _USERINFO.sub(r"\g<scheme>***@", text)
