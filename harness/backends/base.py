"""The backend protocol: what the run layer asks of any model server, and what a backend declares about itself.

Requests are lm-eval's three request types as plain tuples. Each method yields ``(positions, results)`` as soon
as a batch is done, so results are stored while the rest are still running. A backend is a class registered
under the entry-point group ``harness.backends`` (built-ins: ``harness.registry.backends``); it declares the
``--model-args`` keys it accepts (``args``) and predicts, without loading anything, the settings it will report
(``planned``), so a run is planned before weights load.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

LoglikelihoodRequest = tuple[str, str]  # (context, continuation)
GenerationRequest = tuple[str, dict]  # (context, generation kwargs)
BatchResult = tuple[list[int], list[Any]]  # positions in the request list, their results


_KINDS = {bool: "true or false (or 1 or 0)", int: "an integer", float: "a number", str: "text"}


def _is(value: Any, kind: type) -> bool:
    if kind is bool:
        return value in (True, False) and not isinstance(value, float)  # true/false, or 1/0
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    return isinstance(value, kind)


@dataclass(frozen=True)
class Arg:
    """A ``k=v`` key a backend accepts (``--model-args``, ``--gen-kwargs``): its type and range, and whether it
    changes outputs (part of cache keys). ``type`` may be a tuple of accepted types."""

    type: type | tuple[type, ...] = object
    changes_outputs: bool = True
    help: str = ""
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False
    choices: tuple[Any, ...] = ()
    pattern: str | None = None  # a regular expression text values must match whole
    hint: str = ""  # what to use instead, in the error

    def check(self, flag: str, key: str, value: Any) -> None:
        """Raise one line naming the key when ``value`` is not of this type or out of range."""
        from harness.errors import HarnessError

        kinds = self.type if isinstance(self.type, tuple) else (self.type,)
        if value is None or not any(_is(value, kind) for kind in kinds):
            wanted = " or ".join(_KINDS.get(kind, kind.__name__) for kind in kinds)
            raise HarnessError(f"{flag}: {key}={value!r} must be {wanted}")
        if self.choices and value not in self.choices:
            raise HarnessError(f"{flag}: {key}={value!r}: use {', '.join(map(str, self.choices))}")
        if self.pattern and isinstance(value, str) and not re.fullmatch(self.pattern, value):
            raise HarnessError(f"{flag}: {key}={value!r}: use {self.hint or self.pattern}")
        low_bad = self.minimum is not None and isinstance(value, (int, float)) and (
            value <= self.minimum if self.exclusive_minimum else value < self.minimum)
        high_bad = self.maximum is not None and isinstance(value, (int, float)) and value > self.maximum
        if low_bad or high_bad:
            low = "" if self.minimum is None else f"{'above' if self.exclusive_minimum else 'at least'} {self.minimum:g}"
            high = "" if self.maximum is None else f"at most {self.maximum:g}"
            raise HarnessError(f"{flag}: {key}={value!r} must be {' and '.join(filter(None, (low, high)))}")


def check_args(backend: str, declared: dict[str, Arg], given: dict[str, Any]) -> None:
    """Refuse ``--model-args`` keys a backend does not declare, and values of the wrong type or range, with one
    line naming the key."""
    from harness.errors import HarnessError

    unknown = set(given) - set(declared)
    if unknown:
        raise HarnessError(f"--model-args: unknown key(s) {', '.join(sorted(unknown))} for the {backend} backend; "
                           f"known: {', '.join(sorted(declared))}")
    for key, value in given.items():
        declared[key].check("--model-args", key, value)


def output_args(declared: dict[str, Arg], given: dict[str, Any]) -> dict[str, Any]:
    """The given ``--model-args`` that change outputs (part of the cache key)."""
    return {k: v for k, v in given.items() if k not in declared or declared[k].changes_outputs}


class Backend(Protocol):
    """A loaded model that answers lm-eval requests.

    Constructed as ``cls(resolved_model, device=..., dtype=..., batch_size=..., model_args=..., **extra)``.
    """

    name: ClassVar[str]
    args: ClassVar[dict[str, Arg]]
    tokenizer_name: str

    @classmethod
    def planned(cls, model: Any, *, device: str, dtype: str, model_args: dict[str, Any]) -> dict[str, Any]:
        """``device``, ``dtype`` and ``max_length`` as ``describe`` will report them, read from the registry and
        the checkpoint's config files; loads no weights."""
        ...

    def describe(self) -> dict[str, Any]:
        """Effective settings that identify how outputs were produced (device, dtype, max_length, ...)."""
        ...

    def loglikelihood(self, requests: Sequence[LoglikelihoodRequest]) -> Iterator[BatchResult]:
        """Per request: (sum of continuation log-probabilities, whether greedy decoding matches)."""
        ...

    def loglikelihood_rolling(self, texts: Sequence[str]) -> Iterator[BatchResult]:
        """Per text: (total log-likelihood, token count) over rolling windows."""
        ...

    def generate_until(self, requests: Sequence[GenerationRequest]) -> Iterator[BatchResult]:
        """Per request: the generated text, cut at the first stop sequence."""
        ...

    def apply_chat_template(self, history: list[dict[str, str]], add_generation_prompt: bool = True) -> str:
        """Render a chat history with the model's template."""
        ...

    def close(self) -> None:
        """Release the model."""
        ...
