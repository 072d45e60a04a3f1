"""Rolling-window log-likelihood (perplexity tasks), shared by every backend that scores token pairs."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence

from harness.backends.base import BatchResult
from harness.backends.tokenization import LmEvalTokenization

Scorer = Callable[[list[tuple[int, list[int], list[int]]]], Iterator[tuple[list[int], list]]]


def rolling_loglikelihoods(tokens: LmEvalTokenization, texts: Sequence[str], max_length: int,
                           score: Scorer) -> Iterator[BatchResult]:
    """Per text: (sum of log-likelihoods over lm-eval's disjoint windows, token count), yielded as texts finish.

    ``score`` takes ``(position, context tokens, continuation tokens)`` triples and yields
    ``(positions, [(log-likelihood, is_greedy), ...])`` batches.
    """
    windows: list[tuple[int, list[int], list[int]]] = []
    remaining: dict[int, int] = {}
    counts: dict[int, int] = {}
    for pos, text in enumerate(texts):
        spans, counts[pos] = tokens.rolling_windows(text, max_length)
        remaining[pos] = len(spans)
        windows.extend((pos, ctx, cont) for ctx, cont in spans)
    totals: dict[int, float] = defaultdict(float)
    for positions, scores in score(windows):
        done = []
        for pos, (logprob, _) in zip(positions, scores, strict=True):
            totals[pos] += logprob
            remaining[pos] -= 1
            if remaining[pos] == 0:
                done.append(pos)
        if done:
            yield done, [(totals[pos], counts[pos]) for pos in done]
