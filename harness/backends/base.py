"""The backend protocol: what the run layer asks of any model server, and what a backend declares about itself.

Requests are lm-eval's three request types as plain tuples. Each method yields ``(positions, results)`` as soon
as a batch is done, so results are stored while the rest are still running. A backend is a class registered
under the entry-point group ``harness.backends`` (built-ins: ``harness.registry.backends``); it declares the
``--model-args`` keys it accepts (``args``) and predicts, without loading anything, the settings it will report
(``planned``), so a run is planned before weights load.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

LoglikelihoodRequest = tuple[str, str]  # (context, continuation)
GenerationRequest = tuple[str, dict]  # (context, generation kwargs)
BatchResult = tuple[list[int], list[Any]]  # positions in the request list, their results


@dataclass(frozen=True)
class Arg:
    """A ``--model-args`` key a backend accepts: its type and whether it changes outputs (cache keys)."""

    type: type | tuple[type, ...] = object
    changes_outputs: bool = True
    help: str = ""


def check_args(backend: str, declared: dict[str, Arg], given: dict[str, Any]) -> None:
    """Refuse ``--model-args`` keys a backend does not declare, with one line listing those it does."""
    from harness.errors import HarnessError

    unknown = set(given) - set(declared)
    if unknown:
        raise HarnessError(f"--model-args: unknown key(s) {', '.join(sorted(unknown))} for the {backend} backend; "
                           f"known: {', '.join(sorted(declared))}")


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
