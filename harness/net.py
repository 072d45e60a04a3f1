"""Reaching remote services (a Ray cluster, an OpenAI-compatible server) with a bounded wait, so an address
where nothing answers is one line within ``HARNESS_CONNECT_TIMEOUT`` seconds (30 by default)."""

from __future__ import annotations

import os
import socket
from urllib.parse import urlsplit

from harness.errors import HarnessError

DEFAULT_CONNECT_TIMEOUT_S = 30.0


def connect_timeout() -> float:
    """Seconds to wait for a remote service: ``HARNESS_CONNECT_TIMEOUT`` or 30."""
    raw = os.environ.get("HARNESS_CONNECT_TIMEOUT", str(DEFAULT_CONNECT_TIMEOUT_S))
    try:
        value = float(raw)
    except ValueError as exc:
        raise HarnessError(f"HARNESS_CONNECT_TIMEOUT={raw!r} is not a number of seconds") from exc
    if value <= 0:
        raise HarnessError(f"HARNESS_CONNECT_TIMEOUT={raw!r} must be positive")
    return value


def check_reachable(host: str, port: int, what: str, hint: str) -> None:
    """One line naming ``what`` at host:port when no TCP connection opens within the connect timeout."""
    timeout = connect_timeout()
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError as exc:
        reason = "timed out" if isinstance(exc, TimeoutError) else (exc.strerror or type(exc).__name__)
        raise HarnessError(f"{what} {host}:{port} is unreachable ({reason}, waited up to {timeout:g} s); "
                           f"{hint}") from exc


def url_host_port(url: str) -> tuple[str, int]:
    """Host and port of an http(s) URL (80 or 443 by default); credentials in it are never returned."""
    parts = urlsplit(url)
    return parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)
