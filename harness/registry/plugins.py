"""A registry of lazily imported plugins: built-in ``"module:attr"`` entries plus an entry-point group.

Used for backends (``harness.backends``) and harness-native task types (``harness.task_types``); a third-party
package registers one by naming it in its entry points, and nothing is imported until it is used.
"""

from __future__ import annotations

import importlib
from functools import cached_property
from importlib.metadata import entry_points
from typing import Any

from harness.errors import HarnessError, UnknownNameError, did_you_mean


class PluginRegistry:
    """Named plugins of one kind; ``get`` imports an entry the first time it is asked for."""

    def __init__(self, kind: str, group: str, builtins: dict[str, str]) -> None:
        self.kind, self.group, self.builtins = kind, group, builtins
        self._loaded: dict[str, Any] = {}

    @cached_property
    def entries(self) -> dict[str, str]:
        """Every name and its ``module:attr`` target: built-ins first, then plugins (which may override)."""
        found = dict(self.builtins)
        found |= {ep.name: ep.value for ep in entry_points(group=self.group)}
        return found

    def names(self) -> list[str]:
        return list(self.entries)

    def __contains__(self, name: str) -> bool:
        return name in self.entries

    def get(self, name: str) -> Any:
        """The plugin registered as ``name``, imported on first use."""
        if name not in self.entries:
            raise UnknownNameError(f"unknown {self.kind} {name!r}{did_you_mean(name, self.names())}; "
                                   f"known: {', '.join(self.names())}")
        if name not in self._loaded:
            module, _, attr = self.entries[name].partition(":")
            try:
                self._loaded[name] = getattr(importlib.import_module(module), attr)
            except (ImportError, AttributeError) as exc:
                raise HarnessError(f"{self.kind} plugin {name!r} ({self.entries[name]}) failed to load: {exc}") \
                    from exc
        return self._loaded[name]
