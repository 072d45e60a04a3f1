"""The backend protocol: what the runner asks of any model server.

Requests are lm-eval's three request types as plain tuples. Each method yields
``(positions, results)`` as soon as a batch is done, so the runner can store
results while the rest are still running.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Protocol

LoglikelihoodRequest = tuple[str, str]  # (context, continuation)
GenerationRequest = tuple[str, dict]  # (context, generation kwargs)
BatchResult = tuple[list[int], list[Any]]  # positions in the request list, their results


class Backend(Protocol):
    """A loaded model that answers lm-eval requests."""

    name: str
    tokenizer_name: str

    def describe(self) -> dict[str, Any]:
        """Effective settings that identify how outputs were produced (device, dtype, ...)."""
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
