"""Progress for long runs: a bar on a terminal, plain periodic lines otherwise."""

from __future__ import annotations

import os
import sys
import time


def use_color(stream=sys.stderr) -> bool:
    """Colour only on a terminal and when ``NO_COLOR`` is unset."""
    return stream.isatty() and not os.environ.get("NO_COLOR")


class Progress:
    """Requests done / total with rate and ETA; ``quiet`` shows nothing."""

    def __init__(self, total: int, desc: str, *, quiet: bool = False, every_s: float = 10.0, stream=sys.stderr):
        self.total, self.desc, self.done = total, desc, 0
        self.quiet, self.every_s, self.stream = quiet, every_s, stream
        self.start = self._last = time.monotonic()
        self._bar = None
        if not quiet and stream.isatty():
            from tqdm import tqdm

            self._bar = tqdm(total=total, desc=desc, unit="req", file=stream, dynamic_ncols=True,
                             colour=None if not use_color(stream) else "green")

    def update(self, n: int) -> None:
        """Record ``n`` more requests done."""
        self.done += n
        if self._bar is not None:
            self._bar.update(n)
        elif not self.quiet and (time.monotonic() - self._last >= self.every_s or self.done == self.total):
            self._last = time.monotonic()
            self.stream.write(self.line() + "\n")
            self.stream.flush()

    def line(self) -> str:
        """``desc: 120/400 requests (30%), 55.0 req/s, ETA 5s``"""
        elapsed = max(time.monotonic() - self.start, 1e-9)
        rate = self.done / elapsed
        eta = (self.total - self.done) / rate if rate > 0 else float("inf")
        pct = 100 * self.done / self.total if self.total else 100
        return (f"{self.desc}: {self.done}/{self.total} requests ({pct:.0f}%), {rate:.1f} req/s, "
                f"ETA {eta:.0f}s")

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
