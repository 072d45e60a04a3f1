"""Run ``harness run ...``, lm-eval's ``simple_evaluate`` or lm-eval's command line and record when the model first
gets a request.

Used by ``lm_eval_speed.py`` for its whole-process figures; it is not meant to be called by hand::

    python benchmarks/first_request.py START OUT.json harness run --model DIR --task T ...
    python benchmarks/first_request.py START OUT.json lm-eval MODEL_DIR TASK_DIR TASK LIMIT BATCH DEVICE DTYPE
    python benchmarks/first_request.py START OUT.json lm-eval-cli --model hf --model_args ... --tasks T ...

``START`` is the parent's ``time.time()`` taken just before it started this process, so interpreter start-up
counts. An import hook (installed before anything else is imported, so the import order is the program's own)
wraps the request methods of the harness's transformers backend and of lm-eval's ``HFLM`` as their modules are
imported; the first call to any of them is "the first request". ``lm-eval-cli`` runs lm-eval's own command line
(``lm_eval ...``, which indexes lm-eval's built-in tasks besides ``--include_path``). ``OUT.json`` receives
``first_request_s`` and ``exit_s`` (both seconds since ``START``) and, for ``lm-eval``, the task's metrics. With
``FIRST_REQUEST_STOP=1`` in the environment the process writes its record and exits at the first request (for
repeated start-up timings).
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

START = float(sys.argv[1])
OUT = Path(sys.argv[2])
SEEN: dict[str, float] = {}
REQUEST_METHODS = ("loglikelihood", "loglikelihood_rolling", "generate_until")
WATCHED = {"harness.backends.hf": "TransformersBackend", "lm_eval.models.huggingface": "HFLM"}


def _wrap(cls: type) -> None:
    """Record the first call of any request method of ``cls``."""
    for name in REQUEST_METHODS:
        method = cls.__dict__.get(name)
        if method is None:
            continue

        def timed(self: Any, *args: Any, _method: Any = method, **kwargs: Any) -> Any:
            SEEN.setdefault("first_request_s", time.time() - START)
            if os.environ.get("FIRST_REQUEST_STOP") == "1":
                OUT.write_text(json.dumps(SEEN | {"exit_s": time.time() - START}))
                os._exit(0)
            return _method(self, *args, **kwargs)

        setattr(cls, name, timed)


class _Watch(importlib.abc.MetaPathFinder):
    """Patch the watched classes right after their modules execute."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name not in WATCHED:
            return None
        sys.meta_path.remove(self)
        try:
            spec = importlib.util.find_spec(name)
        finally:
            sys.meta_path.insert(0, self)
        if spec is None or spec.loader is None:
            return spec
        execute = spec.loader.exec_module

        def exec_module(module: Any) -> None:
            execute(module)
            _wrap(getattr(module, WATCHED[name]))

        spec.loader.exec_module = exec_module
        return spec


def _lm_eval(model: str, task_dir: str, task: str, limit: str, batch: str, device: str, dtype: str) -> dict:
    """lm-eval called from Python as its documentation shows, with only our task folder indexed."""
    import lm_eval
    from lm_eval.tasks import TaskManager

    out = lm_eval.simple_evaluate(model="hf", model_args=f"pretrained={model},dtype={dtype}", tasks=[task],
                                  limit=int(limit), batch_size=int(batch), device=device,
                                  task_manager=TaskManager(include_path=task_dir, include_defaults=False))
    return {k: v for k, v in out["results"][task].items() if isinstance(v, (int, float))}


def main() -> int:
    command, rest = sys.argv[3], sys.argv[4:]
    sys.meta_path.insert(0, _Watch())
    record: dict[str, Any] = {}
    code = 0
    try:
        if command == "harness":
            from harness.cli import main as harness_main

            code = harness_main(rest) or 0
        elif command == "lm-eval-cli":
            from lm_eval.__main__ import cli_evaluate

            sys.argv = ["lm_eval", *rest]
            code = cli_evaluate() or 0
        elif command == "lm-eval":
            record["results"] = _lm_eval(*rest)
        else:
            raise SystemExit(f"unknown command {command!r}")
    finally:
        record |= SEEN | {"exit_s": time.time() - START}
        OUT.write_text(json.dumps(record))
    return code


if __name__ == "__main__":
    sys.exit(main())
