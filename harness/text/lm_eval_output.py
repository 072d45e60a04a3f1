"""lm-eval's output files for a run (``--output-path``, ``--log-samples``): the aggregated results JSON and a
samples JSONL per task, so scripts and dashboards that read lm-eval's output read ours.

The evaluation hands over what it scored (per document: its request instances and per-sample metrics, for each
filter); the results are aggregated by lm-eval's own ``_process_results`` and written by lm-eval's own
``EvaluationTracker``, so keys, hashes and layout are lm-eval's.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import HarnessError

# our backends as lm-eval's model types (``config.model`` in the results file)
MODEL_TYPES = {"transformers": "hf", "vllm": "vllm", "openai": "local-completions"}


@dataclass(frozen=True)
class Scored:
    """One document scored under one filter: what lm-eval's evaluator logs for it."""

    doc_id: int
    filter_key: str
    instances: list
    metrics: dict[str, Any]


@dataclass(frozen=True)
class RunDescription:
    """What lm-eval's results file says about the run besides its scores."""

    model: str
    backend: str
    model_args: dict[str, Any]
    settings: dict[str, Any]  # one task's recorded settings (the shared part is the run's)
    batch_size: str  # --batch-size as given (the resolved number is in ``settings``)
    gen_kwargs: dict[str, Any] | None  # as given on the command line
    tokenizer: Any
    num_parameters: int  # -1 when no model was loaded (a run re-scored from stored outputs)
    started: float  # time.time() when the run began
    started_clock: float  # time.perf_counter() then


def logged_sample(task: Any, scored: Scored) -> dict[str, Any]:
    """A sample as lm-eval 0.4.13's ``evaluate`` logs it (``log_samples``)."""
    from lm_eval.utils import handle_non_serializable, hash_string

    requests, doc = scored.instances, scored.instances[0].doc
    target = task.doc_to_target(doc)
    example = {
        "doc_id": scored.doc_id, "doc": doc, "target": target, "arguments": [req.args for req in requests],
        "resps": [req.resps for req in requests],
        "filtered_resps": [req.filtered_resps[scored.filter_key] for req in requests],
        "filter": scored.filter_key, "metrics": list(scored.metrics),
        "doc_hash": hash_string(json.dumps(doc, indent=2, default=handle_non_serializable, ensure_ascii=False)),
        "prompt_hash": hash_string(requests[0].arguments[0]), "target_hash": hash_string(str(target)),
    }
    example.update(scored.metrics)
    return example


def accumulated(tasks: dict[str, Any], scored: dict[str, list[Scored]], log_samples: bool) -> dict[str, dict]:
    """lm-eval's per-task accumulator, in its order (filter by filter, documents in order)."""
    acc: dict[str, dict] = {}
    for name, task in tasks.items():
        filters = list(dict.fromkeys(s.filter_key for s in scored.get(name, [])))
        ordered = sorted(scored.get(name, []), key=lambda s: (filters.index(s.filter_key), s.doc_id))
        raw: dict[tuple[str, str], list] = defaultdict(list)
        for item in ordered:
            for metric, value in item.metrics.items():
                raw[(metric, item.filter_key)].append(value)
        acc[name] = {"task": task, "raw_metrics": raw,
                     "logged_samples": [logged_sample(task, s) for s in ordered] if log_samples else []}
    return acc


def write(output_path: str, tasks: dict[str, Any], groups: dict[str, Any], scored: dict[str, list[Scored]],
          run: RunDescription, *, log_samples: bool, bootstrap_iters: int = 100000) -> list[Path]:
    """Write lm-eval's results file (and samples files); returns the paths written."""
    from lm_eval.evaluator_utils import _process_results
    from lm_eval.loggers import EvaluationTracker
    from lm_eval.loggers.utils import add_env_info, get_git_commit_hash

    processed = _process_results(accumulated(tasks, scored, log_samples), groups, bootstrap_iters)
    results = processed._to_eval_results(samples=processed.samples if log_samples else None)
    samples = results.pop("samples", None)
    for task_config in results["configs"].values():  # lm-eval hands the model arguments to every task
        metadata = dict(task_config.get("metadata") or {})
        source = {"config_source": metadata.pop("config_source")} if "config_source" in metadata else {}
        task_config["metadata"] = {**metadata, **_model_args(run), **source}
    results["config"] = _config(run, bootstrap_iters)
    results["git_hash"] = get_git_commit_hash()
    results["date"] = run.started
    add_env_info(results)
    results.update(_tokenizer_info(run))
    tracker = EvaluationTracker(output_path=output_path)
    config = tracker.general_config_tracker
    chat = bool(run.settings.get("apply_chat_template"))
    config.log_experiment_args(model_source=MODEL_TYPES[run.backend], model_args=_model_args(run),
                               system_instruction=run.settings.get("system_instruction"),
                               chat_template=run.settings.get("chat_template") if chat else None,
                               fewshot_as_multiturn=run.settings.get("fewshot_as_multiturn") if chat else None)
    config.start_time = run.started_clock
    before = time.time()
    tracker.save_results_aggregated(results=results, samples=samples)
    for name in results["configs"] if log_samples else []:
        tracker.save_results_samples(task_name=name, samples=samples[name])
    return _written(output_path, config.model_name_sanitized, getattr(tracker, "date_id", None), before)


def _config(run: RunDescription, bootstrap_iters: int) -> dict[str, Any]:
    """``config`` as lm-eval's ``simple_evaluate`` records it."""
    seeds = run.settings.get("seed") or [None] * 4
    limit = run.settings.get("limit")
    auto = run.batch_size.startswith("auto")
    return {"model": MODEL_TYPES[run.backend], "model_args": _model_args(run),
            "model_num_parameters": run.num_parameters, "model_dtype": f"torch.{run.settings.get('dtype')}",
            "model_revision": "main", "model_sha": "", "batch_size": run.batch_size,
            "batch_sizes": [run.settings.get("batch_size")] if auto else [], "device": run.settings.get("device"),
            "use_cache": None, "limit": None if limit is None else float(limit), "bootstrap_iters": bootstrap_iters,
            "gen_kwargs": dict(run.gen_kwargs or {}), "random_seed": seeds[0], "numpy_seed": seeds[1],
            "torch_seed": seeds[2], "fewshot_seed": seeds[3]}


def _model_args(run: RunDescription) -> dict[str, Any]:
    """The model as lm-eval's ``--model_args`` would name it."""
    key = "model" if run.backend == "openai" else "pretrained"
    extra = {} if run.backend == "openai" else {"dtype": run.settings.get("dtype")}
    return {key: run.model, **run.model_args, **extra}


def _tokenizer_info(run: RunDescription) -> dict[str, Any]:
    """The tokenizer keys lm-eval records; its models pad with the unknown or end-of-text token when the
    tokenizer has no padding token, so the file says so too."""
    tokenizer = run.tokenizer
    if tokenizer is None:
        return {}
    pad = next(((t, i) for t, i in ((tokenizer.pad_token, tokenizer.pad_token_id),
                                    (tokenizer.unk_token, tokenizer.unk_token_id),
                                    (tokenizer.eos_token, tokenizer.eos_token_id)) if t), (None, None))
    return {"tokenizer_pad_token": [pad[0], str(pad[1])],
            "tokenizer_eos_token": [tokenizer.eos_token, str(tokenizer.eos_token_id)],
            "tokenizer_bos_token": [tokenizer.bos_token, str(tokenizer.bos_token_id)],
            "eot_token_id": tokenizer.eos_token_id, "max_length": run.settings.get("max_length")}


def _written(output_path: str, model_folder: str, date_id: str | None, before: float) -> list[Path]:
    """The files lm-eval's tracker wrote (it logs a failure instead of raising: here it is an error)."""
    path = Path(output_path)
    folder = path.parent if path.suffix == ".json" else path / model_folder
    written = sorted(p for p in folder.glob(f"*{date_id}*") if p.stat().st_mtime >= before - 1) \
        if folder.is_dir() and date_id else []
    if not any(p.suffix == ".json" for p in written):
        raise HarnessError(f"could not write lm-eval's results file under {folder}; check that it is writable")
    return written
