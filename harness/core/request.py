"""The run request: what the user asked for, normalised and checked once, before anything is planned."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from harness.errors import HarnessError
from harness.redact import redact
from harness.core.options import BY_NAME, NATIVE_KINDS, NATIVE_OPTIONS, OPTIONS, REQUEST_KEYS, Option


def log_to_stderr(message: str) -> None:
    """The default log: a line on stderr (stdout carries results)."""
    import sys

    print(message, file=sys.stderr, flush=True)


def split_names(tasks: str | list[str] | tuple[str, ...] | None) -> tuple[str, ...]:
    """``["a,b", "c"]`` -> ``("a", "b", "c")`` (``--task`` is repeatable and comma-separated)."""
    items = [tasks] if isinstance(tasks, str) else list(tasks or [])
    names = [n.strip() for item in items for n in item.split(",") if n.strip()]
    if not names:
        raise HarnessError("no task given; pass --task NAME (see 'harness tasks')")
    return tuple(dict.fromkeys(names))


@dataclass(frozen=True)
class RunRequest:
    """A frozen, normalised ``harness.run`` call: model, tasks, revision and every option of ``OPTIONS``.

    Options read as attributes (``request.limit``); ``raw`` keeps them as given (the teacher's request reuses them).
    """

    model: str | None
    tasks: tuple[str, ...]
    revision: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    raw: Mapping[str, Any] = field(default_factory=dict)
    db: Any = None
    log: Callable[[str], None] = log_to_stderr

    @classmethod
    def build(cls, model: str | None, task: Any, *, revision: str | None = None, db: Any = None,
              log: Callable[[str], None] | None = None, **given: Any) -> RunRequest:
        """Check and normalise keyword arguments (unknown names raise ``TypeError``, as a function call would)."""
        unknown = sorted(set(given) - set(BY_NAME))
        if unknown:
            raise TypeError(f"run() got unexpected keyword argument(s): {', '.join(unknown)}")
        raw = {o.name: given.get(o.name, o.default) for o in OPTIONS}
        options = {name: (BY_NAME[name].check(value) if BY_NAME[name].check else value)
                   for name, value in raw.items()}
        return cls(model=model, tasks=split_names(task), revision=revision, options=MappingProxyType(options),
                   raw=MappingProxyType(raw), db=db, log=log or log_to_stderr)

    def __getattr__(self, name: str) -> Any:
        options = self.__dict__.get("options", {})
        if name in options:
            return options[name]
        raise AttributeError(name)

    def given(self, scope: str | None = None) -> Iterator[Option]:
        """The options set by the user, of one scope (or all)."""
        for option in OPTIONS:
            if (scope is None or option.scope == scope) and option.given(self.options[option.name]):
                yield option

    # -- applicability -------------------------------------------------------------------------------
    def check_for_native(self, task_names: list[str]) -> None:
        """Refuse text-only options for harness-native tasks."""
        given = [o.flag for o in self.given("text")]
        if given:
            raise HarnessError(f"{', '.join(given)} only apply to text tasks; {', '.join(task_names)} is not one")

    def check_for_text(self) -> None:
        """Refuse harness-native options (and --data) for lm-eval tasks."""
        flags = [o.flag for o in self.given("native")]
        if flags:
            raise HarnessError(f"{', '.join(flags)} only apply to {NATIVE_KINDS}")
        for option in self.given("any"):
            if option.scope_error:
                raise HarnessError(option.scope_error)

    def check_backend(self, backend: str) -> None:
        """Refuse options of other backends, with one line naming them."""
        wrong = [o for o in self.given() if o.backends and backend not in o.backends]
        for only in dict.fromkeys(o.backends for o in wrong):
            flags = [o.flag for o in wrong if o.backends == only]
            verb = "applies" if flags == ["--base-url"] else "apply"
            raise HarnessError(f"{', '.join(flags)} only {verb} to --backend {' or '.join(only)}; "
                               f"this run uses {backend}")

    # -- identity --------------------------------------------------------------------------------------
    def native_options(self) -> dict[str, Any]:
        """The options a harness-native task type's ``prepare`` reads (absent ones None), with --gen-kwargs."""
        return {key: self.options[key] for key in NATIVE_OPTIONS} | {"gen_kwargs": self.gen_kwargs}

    def request_hash(self, chat_default: bool) -> str:
        """Hash of what was asked for: the output-changing options, normalised, the chat template on or off as
        the registry defaults it."""
        asked = {key: self.options[key] for key in REQUEST_KEYS}
        for key in ("base_url", "teacher_base_url"):  # who may call a server does not change its answers
            asked[key] = redact(asked[key])
        if asked["apply_chat_template"] is None:
            asked["apply_chat_template"] = chat_default
        return hashlib.sha256(json.dumps(asked, sort_keys=True, default=str).encode()).hexdigest()


def request_hash(options: dict[str, Any], chat_default: bool) -> str:
    """Hash of what a ``run()`` call asks for: ``options`` (any run options; the rest take their defaults)."""
    known = {k: v for k, v in options.items() if k in BY_NAME}
    return RunRequest.build(None, "_", **known).request_hash(chat_default)
