"""What a run page shows of each sample: the prompt as sent, the model's raw output, the extracted prediction and the
target, its requests and document, and the metrics by which the answer is wrong.

The prompt is ``samples.input``: the context of the sample's first request, chat template and few-shot examples
applied, exactly as the model received it. A request whose context differs (one context per choice) carries its own.
"""

from __future__ import annotations

import json
from typing import Any

from harness.report.readable import flatten, number, readable
from harness.store import Store

# one row per request: its context only where it differs from the sample's input, the rest of its arguments
# (a continuation, or the generation settings) and the response
_REQUESTS = """
SELECT r.run_id, r.doc_id, CASE WHEN r.arguments->>'$[0]' = s.input THEN NULL ELSE r.arguments->>'$[0]' END,
       r.arguments->'$[1]', r.response
FROM requests r JOIN samples s ON s.run_id = r.run_id AND s.doc_id = r.doc_id
WHERE r.run_id IN (SELECT unnest(?)) ORDER BY r.run_id, r.doc_id, r.idx, r.repeat
"""


def requests_of(store: Store, run_ids: list[str]) -> dict[tuple[str, int], list[dict[str, Any]]]:
    """The requests of several runs by run and doc id, in order: context (None: the sample's input), what else was
    sent, and the response, as text."""
    found: dict[tuple[str, int], list[dict[str, Any]]] = {}
    with store.reading() as conn:
        if conn is None or not run_ids:
            return found
        for run_id, doc_id, context, sent, response in conn.execute(_REQUESTS, [run_ids]).fetchall():
            found.setdefault((run_id, doc_id), []).append(
                {"context": context, "sent": _sent(sent), "response": _response(response)})
    return found


def _sent(arguments: str | None) -> str:
    """A request's arguments after the context: a continuation quoted (its spaces visible), generation settings as
    readable JSON."""
    value = json.loads(arguments) if arguments else None
    return "" if value is None else json.dumps(value, ensure_ascii=False) if isinstance(value, str) else readable(value)


def _response(response: str | None) -> str:
    """A response as text: ``[log-likelihood, is_greedy]`` spelt out, generated text verbatim."""
    value = json.loads(response) if response else None
    if isinstance(value, list) and len(value) == 2 and isinstance(value[0], (int, float)):
        return f"log-likelihood {number(float(value[0]))}" + (", greedy" if value[1] is True else "")
    return value if isinstance(value, str) else readable(value)


def binary_metrics(metrics: list[dict[str, Any]], higher: dict[str, bool | None]) -> dict[str, float]:
    """The per-sample metrics (one dict per sample) that score an answer right or wrong (every value 0 or 1), with the
    value of a wrong one (0, or 1 where lower is better); ``higher`` gives each one's direction by its key."""
    values: dict[str, set[float]] = {}
    for sample in metrics:
        for key, value in sample.items():
            values.setdefault(key, set()).add(float(value) if isinstance(value, (bool, int, float)) else -1.0)
    return {key: 1.0 if higher.get(key) is False else 0.0 for key, seen in values.items() if seen <= {0.0, 1.0}}


def _text(value: Any) -> str:
    return "" if value is None else value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _labelled(value: Any, choices: list[Any] | None) -> Any:
    """A choice index with the choice's text (``2: positive``)."""
    if choices and isinstance(value, int) and not isinstance(value, bool) and 0 <= value < len(choices):
        return f"{value}: {choices[value]}"
    return value


def sample_view(sample: dict[str, Any], metrics: dict[str, Any], requests: list[dict[str, Any]],
                wrong_when: dict[str, float]) -> dict[str, Any]:
    """One sample (its ``metrics`` decoded) as the page's script shows it: every value text, for ``textContent``."""
    choices = json.loads(sample["choices"]) if sample["choices"] else None
    prediction = _labelled(json.loads(sample["prediction"]) if sample["prediction"] is not None else None, choices)
    target = _labelled(json.loads(sample["target"]) if sample["target"] is not None else None, choices)
    if sample["output_type"] == "loglikelihood_rolling" and sample["loglikelihood"] is not None:
        prediction = f"log-likelihood {sample['loglikelihood']:.4f} over {sample['token_count']} tokens"
    doc = json.loads(sample["doc"]) if sample["doc"] else None
    return {"doc_id": sample["doc_id"], "input": _text(sample["input"]), "target": _text(target),
            "prediction": _text(prediction), "output": sample["raw_output"],
            "metrics": ", ".join(f"{key} {readable(value)}" for key, value in metrics.items()),
            "wrong": [key for key, bad in wrong_when.items() if key in metrics and float(metrics[key]) == bad],
            "requests": requests,
            "doc": flatten(doc) if isinstance(doc, dict) else [] if doc is None else [("document", readable(doc))]}


def run_samples(run: dict[str, Any], samples: list[dict[str, Any]],
                requests: dict[tuple[str, int], list[dict[str, Any]]]) -> dict[str, Any]:
    """A run's samples for its page, the metrics its wrong-answer filter offers, and whether it has raw outputs."""
    single = len({m["filter"] for m in run["metrics"]}) <= 1
    higher = {m["metric"] if single else f"{m['metric']},{m['filter']}": m.get("higher_is_better")
              for m in run["metrics"]}
    metrics = [json.loads(s["metrics"]) if s["metrics"] else {} for s in samples]
    wrong_when = binary_metrics(metrics, higher)
    views = [sample_view(s, m, requests.get((run["run_id"], s["doc_id"]), []), wrong_when)
             for s, m in zip(samples, metrics)]
    return {"samples": views, "wrong_metrics": list(wrong_when),
            "has_output": any(view["output"] is not None for view in views)}
