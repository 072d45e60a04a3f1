"""Files a command writes at a path the user gave: checked before any work is done, written whole."""

from __future__ import annotations

import os
from pathlib import Path

from harness.errors import HarnessError


def output_file(path: str | Path, flag: str) -> Path:
    """``path`` as a file to write: not a folder, its folder created, writable; else one line naming the flag."""
    target = Path(path)
    if target.is_dir():
        raise HarnessError(f"{flag} {target} is a folder; give a file name, e.g. {target / 'out'}")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise HarnessError(f"{flag} {target}: cannot create its folder ({exc.strerror})") from exc
    if not os.access(target.parent, os.W_OK) or (target.exists() and not os.access(target, os.W_OK)):
        raise HarnessError(f"{flag} {target} is not writable; choose another path")
    return target
