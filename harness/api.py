"""The public Python API; the CLI is a thin layer over these functions.

>>> import harness
>>> results = harness.run(model="tiny-pythia", task="finance", limit=5)  # doctest: +SKIP
>>> harness.runs()[0]["status"]  # doctest: +SKIP
'finished'
"""

from __future__ import annotations

import hashlib
import json
import platform
import random
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness.errors import HarnessError
from harness.store import SCHEMA_VERSION, Store, process_identity, utcnow

DEFAULT_SEED = "0,1234,1234,1234"
IMITATION_TASK = "factuality_imitation_gap"
# Settings that do not change outputs are recorded but left out of the settings hash.
_UNHASHED_SETTINGS = {"batch_size", "device", "data_parallel_size", "request_hash"}
# The run() arguments that can change outputs, hashed as given (``request_hash``): ``harness sweep`` skips a job
# when a finished run has the same model fingerprint, task hash and request hash, without loading the model.
# The run() arguments harness-native task types (vision, video, preference) read, besides --data.
TYPED_OPTIONS = ("images", "prompt", "clicks", "coco_eval", "generated", "reference", "i3d", "num_generated",
                 "num_reference", "videomae", "beta")
REQUEST_KEYS = ("backend", "device", "dtype", "limit", "num_fewshot", "seed", "model_args", "gen_kwargs",
                "apply_chat_template", "system_instruction", "prompt_strategy", "fewshot_as_multiturn", "metadata",
                "tensor_parallel_size", "pipeline_parallel_size", "max_model_len", "base_url", "teacher",
                "teacher_base_url", "data", *TYPED_OPTIONS)


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _store(db: str | Path | None) -> Store:
    from harness.resources import default_db

    return Store(db if db is not None else default_db())


def parse_seed(seed: str | int | None) -> list[int | None]:
    """lm-eval's ``--seed``: one integer for all four seeds, or ``python,numpy,torch,fewshot``."""
    if seed is None:
        seed = DEFAULT_SEED
    parts = [p.strip() for p in str(seed).split(",")]
    if len(parts) == 1:
        parts *= 4
    if len(parts) != 4:
        raise HarnessError(f"--seed {seed!r}: give one integer or four (python,numpy,torch,fewshot)")
    try:
        return [None if p.lower() == "none" else int(p) for p in parts]
    except ValueError as exc:
        raise HarnessError(f"--seed {seed!r}: seeds must be integers or None") from exc


def parse_kv(text: str | dict | None, flag: str) -> dict[str, Any]:
    """``k=v,k2=v2`` -> dict with ints, floats, booleans and None recognised (lm-eval's syntax)."""
    if text is None or isinstance(text, dict):
        return dict(text or {})
    out: dict[str, Any] = {}
    for item in filter(None, (p.strip() for p in text.split(","))):
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise HarnessError(f"{flag}: {item!r} is not key=value")
        out[key.strip()] = _literal(raw.strip())
    return out


def _literal(raw: str) -> Any:
    lowered = raw.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("none", "null"):
        return None
    for cast in (int, float):
        try:
            return cast(raw)
        except ValueError:
            pass
    return raw


def _check_limit(limit: float | None) -> int | float | None:
    if limit is None:
        return None
    if limit <= 0:
        raise HarnessError(f"--limit {limit:g} must be positive: a number of samples, or a fraction below 1")
    return int(limit) if limit >= 1 else float(limit)


def _versions(backend: str) -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {"python": platform.python_version()}
    for dist in ("harness", "lm_eval", "transformers", "torch", "duckdb"):
        try:
            found[dist] = version(dist)
        except PackageNotFoundError:
            found[dist] = "not installed"
    if backend == "vllm":
        from harness.backends.vllm import vllm_version

        found["vllm"] = vllm_version() or "not installed"
    return found


def _git_commit() -> str | None:
    root = Path(__file__).resolve().parent.parent
    if not (root / ".git").exists():
        return None
    try:
        out = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                             timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def _set_seeds(seeds: list[int | None]) -> None:
    import numpy as np
    import torch

    if seeds[0] is not None:
        random.seed(seeds[0])
    if seeds[1] is not None:
        np.random.seed(seeds[1])
    if seeds[2] is not None:
        torch.manual_seed(seeds[2])


def settings_hash(settings: dict[str, Any]) -> str:
    """Hash of the settings that can change outputs."""
    hashed = {k: v for k, v in settings.items() if k not in _UNHASHED_SETTINGS}
    return hashlib.sha256(json.dumps(hashed, sort_keys=True, default=str).encode()).hexdigest()


def typed_options(arguments: dict[str, Any]) -> dict[str, Any]:
    """The options a harness-native task type's ``prepare`` gets, from ``run()``'s arguments (absent ones None)."""
    return {key: arguments.get(key) for key in TYPED_OPTIONS} | {
        "gen_kwargs": parse_kv(arguments.get("gen_kwargs"), "--gen-kwargs")}


def request_hash(options: dict[str, Any], chat_default: bool) -> str:
    """Hash of what a ``run()`` call asks for: ``options`` (any of ``REQUEST_KEYS``; the rest take ``run()``'s
    defaults), aliases and text forms normalised, the chat template on or off as the registry defaults it."""
    import inspect

    from harness.backends import ALIASES

    defaults = {name: p.default for name, p in inspect.signature(run).parameters.items()}
    asked = {key: options.get(key, defaults[key]) for key in REQUEST_KEYS}
    asked["backend"] = ALIASES.get(asked["backend"], asked["backend"])
    asked["limit"] = _check_limit(asked["limit"])
    asked["seed"] = parse_seed(asked["seed"])
    asked["model_args"] = parse_kv(asked["model_args"], "--model-args")
    asked["gen_kwargs"] = parse_kv(asked["gen_kwargs"], "--gen-kwargs")
    if asked["apply_chat_template"] is None:
        asked["apply_chat_template"] = chat_default
    return hashlib.sha256(json.dumps(asked, sort_keys=True, default=str).encode()).hexdigest()


def run(model: str | None, task: str | list[str], *, backend: str = "auto", batch_size: int = 8,
        limit: float | None = None, num_fewshot: int | None = None, device: str = "auto", dtype: str = "auto",
        seed: str | int | None = DEFAULT_SEED, model_args: str | dict | None = None,
        gen_kwargs: str | dict | None = None, revision: str | None = None,
        include_path: list[str] | None = None, apply_chat_template: bool | None = None,
        system_instruction: str | None = None, prompt_strategy: str | None = None,
        fewshot_as_multiturn: bool = False,
        metadata: dict | None = None, tensor_parallel_size: int | None = None,
        pipeline_parallel_size: int | None = None, data_parallel_size: int | None = None,
        adapter: str | None = None, quantization: str | None = None,
        gpu_memory_utilization: float | None = None, max_model_len: int | None = None,
        base_url: str | None = None, resume: bool | str = False, use_cache: bool = True,
        tag: str | None = None, teacher: str | bool | None = None, teacher_base_url: str | None = None,
        skip_finished: bool = False, data: str | None = None, images: str | None = None, prompt: str | None = None,
        clicks: int | None = None, coco_eval: str | None = None, generated: str | None = None,
        reference: str | None = None, i3d: str | None = None, num_generated: int | None = None,
        num_reference: int | None = None, videomae: str | None = None, beta: float | None = None,
        db: str | Path | None = None,
        quiet: bool = False,
        log: Callable[[str], None] = _log) -> list[dict[str, Any]]:
    """Evaluate ``model`` on ``task`` (names, groups or comma lists) and store one run per leaf task.

    Responses already stored for the same model, output-affecting settings and request are reused unless
    ``use_cache`` is False; ``resume`` (True, or a run id) continues an unfinished run instead of starting anew;
    ``tag`` names the finished runs (see ``tag()``). ``apply_chat_template`` defaults to the registry entry (on
    for chat models); ``prompt_strategy`` sets generative tasks' system prompt (see ``harness.text.strategies``)
    unless ``system_instruction`` gives one for every task. ``teacher`` (with ``teacher_base_url`` for a server)
    answers ``factuality_imitation_gap`` first, as a run of its own (``teacher=False`` makes such a run: the task
    without a teacher, scoring facts only). ``skip_finished`` reuses a finished run with
    the same model fingerprint, task hash and settings instead of evaluating again. Harness-native tasks (vision,
    video) run through ``harness.typed_runner``; ``data`` gives such a task the user's own images (a COCO
    instances file with ``images`` for segmentation), ``prompt``, ``clicks`` and ``coco_eval`` set segmentation
    prompts and the AP engine; ``generated``, ``reference``, ``i3d``, ``num_generated`` and ``num_reference`` set
    FVD (``model`` may be None when ``generated`` gives the videos); ``videomae`` (a VideoMAE checkpoint
    folder) adds the content-debiased ``cd_fvd``. For ``preference`` tasks ``reference`` names the reference
    model (default: the registry's ``dpo_reference``) and ``beta`` DPO's β (0.1). ``tensor_parallel_size`` and
    ``pipeline_parallel_size`` go to vLLM (on GPUs the tensor-parallel size defaults to the registry's
    ``min_gpus``); ``data_parallel_size`` splits each task's requests across that many engines, Ray actors built
    once for the whole call. ``adapter`` (a
    peft LoRA folder) and ``quantization`` (``nf4`` or ``int8``, bitsandbytes on a GPU) change the weights the
    transformers backend loads; both are part of the model fingerprint. Every run records its load time and
    peak memory.
    Returns one ``{"run_id", "invocation_id", "task", "status", "metrics"}`` per run. Bad input raises
    ``HarnessError`` before anything is written.
    """
    requested = {k: v for k, v in locals().items() if k in REQUEST_KEYS}  # the arguments, before any is resolved
    from harness.backends import choose_backend
    from harness.text.evaluate import Reuse, build_requests
    from harness.text.strategies import system_prompts
    from harness.text.tasks import load_tasks, split_names, task_hash

    limit = _check_limit(limit)
    if tag is not None and (not tag.strip() or tag != tag.strip()):
        raise HarnessError(f"--tag {tag!r}: give a non-empty name without surrounding spaces")
    if batch_size < 1:
        raise HarnessError(f"--batch-size {batch_size} must be at least 1")
    seeds = parse_seed(seed)
    model_kwargs, generation = parse_kv(model_args, "--model-args"), parse_kv(gen_kwargs, "--gen-kwargs")
    names = split_names(task)
    typed = _typed_tasks(names, include_path)
    if typed is not None:
        from harness.typed_runner import run_typed

        text_only = {"--prompt-strategy": prompt_strategy, "--teacher": teacher, "--system-prompt": system_instruction,
                     "--chat": apply_chat_template or None, "--resume": resume or None,
                     "--data-parallel-size": data_parallel_size, "--adapter": adapter, "--quantization": quantization}
        given = [flag for flag, value in text_only.items() if value is not None]
        if given:
            raise HarnessError(f"{', '.join(given)} only apply to text tasks; {', '.join(t.name for t in typed)} "
                               "is not one")
        store = _store(db)
        store.ensure_ready()
        return run_typed(typed, model=model, revision=revision, device=device, dtype=dtype, batch_size=batch_size,
                         limit=limit, data=data, request_hash=request_hash(requested, chat_default=False),
                         options=typed_options(requested),
                         tag=tag, store=store, log=log,
                         common={"versions": json.dumps(_versions("transformers")), "git_commit": _git_commit()})
    if model is None:
        raise HarnessError("--model is required (only 'fvd' with --generated DIR scores videos without one)")
    typed_only = {"--images": images, "--prompt": prompt, "--clicks": clicks, "--coco-eval": coco_eval,
                  "--generated": generated, "--reference": reference, "--i3d": i3d, "--beta": beta,
                  "--num-generated": num_generated, "--num-reference": num_reference, "--videomae": videomae}
    if any(v is not None for v in typed_only.values()):
        flags = ", ".join(k for k, v in typed_only.items() if v is not None)
        raise HarnessError(f"{flags} only apply to harness-native tasks (preference, memorization, vision, video)")
    if data is not None:
        raise HarnessError("--data gives a vision or video task its images; text tasks read their data from "
                           "their YAML (public datasets: --metadata '{\"data_path\": FILE}')")
    _check_variant(adapter, quantization, device, backend)
    backend_name, reason = choose_backend(backend, "transformers" if adapter or quantization
                                          else _preferred_backend(model))
    if base_url and backend_name != "openai":
        raise HarnessError(f"--base-url only applies to --backend openai; this run uses {backend_name}")
    resolved = _resolve_for(backend_name, model, revision, base_url)
    if adapter is not None or quantization is not None:
        from dataclasses import replace

        from harness.models.resolve import variant_fingerprint

        resolved = replace(resolved, fingerprint=variant_fingerprint(resolved.fingerprint, adapter, quantization))
    if resolved.spec and resolved.spec.modality != "text":
        raise HarnessError(f"model {model!r} is a {resolved.spec.modality} model; text tasks need a language model")
    tensor_parallel_size = _fit_gpus(backend_name, resolved, device, tensor_parallel_size, pipeline_parallel_size,
                                     data_parallel_size)
    model_kwargs |= _vllm_options(backend_name, tensor_parallel_size=tensor_parallel_size,
                                  pipeline_parallel_size=pipeline_parallel_size,
                                  gpu_memory_utilization=gpu_memory_utilization, max_model_len=max_model_len)
    store = _store(db)
    store.ensure_ready()  # a locked or foreign store fails here, before models load
    _set_seeds(seeds)
    tasks = load_tasks(names, include_paths=include_path, num_fewshot=num_fewshot, gen_kwargs=generation,
                       fewshot_seed=seeds[3], metadata=metadata)
    prompts = system_prompts(tasks, prompt_strategy, system_instruction)
    task_settings: dict[str, dict[str, Any]] = {}
    if teacher is not False and (teacher is not None or teacher_base_url is not None or IMITATION_TASK in tasks):
        from harness.text.teacher import attach_teacher

        task_settings = attach_teacher(
            tasks, teacher, teacher_base_url, store, reload=lambda extra: load_tasks(
                [IMITATION_TASK], include_paths=include_path, num_fewshot=num_fewshot, gen_kwargs=generation,
                fewshot_seed=seeds[3], metadata={**(metadata or {}), **extra})[IMITATION_TASK],
            run_teacher=lambda **kw: run(task=IMITATION_TASK, batch_size=batch_size, limit=limit, device=device,
                                         dtype=dtype, seed=seed, gen_kwargs=gen_kwargs, skip_finished=True, db=db,
                                         quiet=quiet, log=log, teacher=False, **kw))
    chat_default = bool(resolved.spec and resolved.spec.chat_template)
    request = request_hash(requested, chat_default)
    if apply_chat_template is None:
        apply_chat_template = chat_default
    if not quiet:
        log(f"model {model} -> {resolved.fingerprint}; backend: {backend_name} ({reason})")
    extra = {"base_url": base_url} if backend_name == "openai" else {}
    extra |= {k: v for k, v in (("adapter", adapter), ("quantization", quantization)) if v is not None}
    load_started = time.perf_counter()
    engine, owned = _open_engine(backend_name, resolved, device=device, dtype=dtype, batch_size=batch_size,
                                 model_args=model_kwargs, data_parallel_size=data_parallel_size, **extra)
    try:
        load_s = time.perf_counter() - load_started
        build_requests(tasks, engine, limit=limit, apply_chat_template=apply_chat_template,
                       system_instructions=prompts, fewshot_as_multiturn=fewshot_as_multiturn)
        described = engine.describe()
        invocation_id = uuid.uuid4().hex[:12]
        chat_hash = _chat_template_hash(engine) if apply_chat_template else None
        fingerprint = f"{resolved.fingerprint}+chat:{chat_hash}" if chat_hash else resolved.fingerprint
        common = {
            "invocation_id": invocation_id, "model": model, "model_fingerprint": fingerprint,
            "model_source": resolved.source, "revision": resolved.revision, "dtype": described["dtype"],
            "backend": backend_name, "device": described["device"], "versions": json.dumps(_versions(backend_name)),
            "model_info": json.dumps(resolved.spec.summary() if resolved.spec else {"name": model}),
            "git_commit": _git_commit(), "status": "running", "started_at": utcnow(), **process_identity(),
        }
        rows, run_ids, resumed, finished = [], {}, {}, {}
        shared_settings = {
            "limit": limit, "seed": seeds, "apply_chat_template": apply_chat_template,
            "chat_template": getattr(engine.tokenizer, "chat_template", None) if apply_chat_template else None,
            "chat_template_hash": chat_hash, "prompt_strategy": prompt_strategy,
            "fewshot_as_multiturn": fewshot_as_multiturn,
            "model_args": model_kwargs, "backend": backend_name, "dtype": described["dtype"],
            "max_length": described.get("max_length"), "batch_size": batch_size, "device": described["device"],
            "data_parallel_size": described.get("data_parallel_size", 1), "request_hash": request,
            **({"adapter": str(Path(adapter).resolve())} if adapter is not None else {}),
            **({"quantization": quantization} if quantization is not None else {}),
        }
        for name, task_obj in tasks.items():
            settings = {"num_fewshot": task_obj.get_config("num_fewshot"), **shared_settings,
                        "system_instruction": prompts[name], **task_settings.get(name, {}),
                        "system_prompt_from": "explicit" if system_instruction is not None else (
                            "strategy" if prompts[name] else None),
                        "gen_kwargs": task_obj.get_config("generation_kwargs")
                        if task_obj.get_config("output_type") == "generate_until" else None}
            row = common | {"task": name, "task_hash": task_hash(task_obj), "output_type": task_obj.OUTPUT_TYPE,
                            "settings": json.dumps(settings, default=str), "settings_hash": settings_hash(settings)}
            previous = _resumable(store, resume, row) if resume else None
            done = store.finished_match(fingerprint, row["task_hash"], row["settings_hash"]) if skip_finished else None
            if done:
                finished[name] = done
            elif previous:
                resumed[name] = previous
                run_ids[name] = previous
            else:
                run_ids[name] = f"{utcnow():%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:6]}"
                rows.append(row | {"run_id": run_ids[name]})
        if isinstance(resume, str) and not resumed:
            raise HarnessError(f"run {resume} does not match this model, task and settings; run it with the "
                               "command that started it, or drop the run id to resume the latest matching run")
        store.create_runs(rows)
        reuse = Reuse(namespace=_cache_namespace(resolved.fingerprint, described, model_kwargs) if use_cache else None,
                      lookup=store.cached_responses)
        for name, run_id in resumed.items():
            store.reopen(run_id, process_identity())
            reuse.resumed[name] = store.run_responses(run_id)
            log(f"run {run_id}: resuming {model} on {name} ({len(reuse.resumed[name])} requests already done)")
        for name, run_id in run_ids.items():
            if name not in resumed:
                log(f"run {run_id}: {model} on {name}")
        if resume and not resumed:
            log("no unfinished run with this model, task and settings to resume; started new runs")
        for name, run_id in finished.items():
            log(f"run {run_id}: {model} on {name} already finished with these settings; reused")
        pending = {name: task_obj for name, task_obj in tasks.items() if name not in finished}
        results = [_finished_result(store, run_id) for run_id in finished.values()]
        if pending:
            # an in-process model's memory (vLLM and data-parallel engines live in processes of their own)
            local = backend_name == "transformers" and described.get("data_parallel_size", 1) == 1
            costs = {"load_s": load_s, "peak_memory_mb": None}
            results += _execute(store, pending, engine, run_ids, invocation_id, quiet, reuse, log, costs,
                                described["device"] if local else None)
        if tag is not None:
            store.tag([r["run_id"] for r in results], tag)
        return results
    finally:
        if owned:
            engine.close()


def _typed_tasks(names: list[str], include_path: list[str] | None) -> list[Any] | None:
    """The harness-native tasks the names mean, or None for lm-eval tasks."""
    from harness.registry.typed_tasks import expand
    from harness.text.tasks import task_folders

    return expand(names, task_folders(include_path))


def _finished_result(store: Store, run_id: str) -> dict[str, Any]:
    """A finished run in the shape ``run()`` returns."""
    shown = store.get_run(run_id)
    run_row = shown["run"]
    return {"run_id": run_id, "invocation_id": run_row["invocation_id"], "task": run_row["task"],
            "status": "finished", "n_samples": run_row["n_samples"], "metrics": shown["metrics"]}


def _chat_template_hash(engine: Any) -> str:
    """Hash of the chat template rendered on a fixed conversation (part of the run's model fingerprint)."""
    probe = [{"role": "user", "content": "Q1"}, {"role": "assistant", "content": "A1"}, {"role": "user", "content": "Q2"}]
    return hashlib.sha256(engine.apply_chat_template(probe).encode()).hexdigest()[:16]


# Settings that do not change a backend's outputs, left out of the cache key.
_NOT_OUTPUT_SETTINGS = {"batch_size", "max_concurrency", "timeout", "max_retries", "api_key_env",
                        "gpu_memory_utilization", "tensor_parallel_size", "shared_context", "swap_space"}


def _cache_namespace(fingerprint: str, described: dict[str, Any], model_args: dict[str, Any]) -> str:
    """What, besides the request, determines a response: the weights and output-affecting settings."""
    device = str(described.get("device", "")).split(":")[0]
    relevant = {k: v for k, v in model_args.items() if k not in _NOT_OUTPUT_SETTINGS}
    return json.dumps([fingerprint, described["backend"], described["dtype"], device, described.get("max_length"),
                       relevant], sort_keys=True, default=str)


def _resumable(store: Store, resume: bool | str, row: dict[str, Any]) -> str | None:
    """The run ``--resume`` continues for this task: the one named, or the latest unfinished match."""
    if isinstance(resume, str):
        shown = store.get_run(resume)["run"]
        same = all(shown[k] == row[k] for k in ("model_fingerprint", "task_hash", "settings_hash"))
        if not same:
            return None
        if shown["status"] in ("finished", "running"):
            raise HarnessError(f"run {shown['run_id']} is {shown['status']}; only failed or interrupted runs resume")
        return shown["run_id"]
    return store.resumable(row["model_fingerprint"], row["task_hash"], row["settings_hash"])


def _preferred_backend(model: str) -> str | None:
    """The registry's preferred backend for ``model`` (None for hub ids and folders)."""
    from harness.models.resolve import split_revision
    from harness.registry import all_models

    spec = all_models().get(split_revision(model, None)[0])
    return spec.backend if spec else None


def _resolve_for(backend: str, model: str, revision: str | None, base_url: str | None) -> Any:
    """Local weights for local backends; for a server, its name plus a local tokenizer when there is one."""
    from harness.models.resolve import ResolvedModel, resolve_model

    if backend != "openai":
        return resolve_model(model, revision)
    fingerprint = f"openai:{(base_url or '').rstrip('/')}#{model}"
    try:
        local = resolve_model(model, revision)
    except HarnessError:  # served elsewhere: generation still works, log-likelihoods need a tokenizer
        return ResolvedModel(model, "", fingerprint, "openai", None, revision)
    return ResolvedModel(model, local.path, fingerprint, "openai", local.spec, revision)


def _check_variant(adapter: str | None, quantization: str | None, device: str, backend: str) -> None:
    """Refuse an adapter or quantization this run cannot load, with one line, before anything loads."""
    import torch

    if adapter is None and quantization is None:
        return
    if backend not in ("auto", "transformers", "hf"):
        raise HarnessError(f"--adapter and --quantization load through --backend transformers; not {backend}")
    if adapter is not None:
        from harness.models.resolve import check_adapter

        check_adapter(adapter)
    if quantization is None:
        return
    if quantization not in ("nf4", "int8"):
        raise HarnessError(f"--quantization {quantization!r}: use nf4 (4-bit, QLoRA's) or int8")
    if device == "cpu" or not torch.cuda.is_available():
        raise HarnessError(f"--quantization {quantization} loads through bitsandbytes on a CUDA GPU and this run "
                           "is on the CPU; drop it (an --adapter works on the CPU)")
    import importlib.util

    if importlib.util.find_spec("bitsandbytes") is None:
        raise HarnessError("--quantization needs bitsandbytes: pip install bitsandbytes")


def _fit_gpus(backend: str, resolved: Any, device: str, tensor_parallel: int | None, pipeline_parallel: int | None,
              data_parallel: int | None) -> int | None:
    """Refuse a GPU run with fewer GPUs than the model needs; returns the tensor-parallel size to use (vLLM on
    GPUs defaults it to the registry's ``min_gpus``)."""
    import torch

    from harness.devices import check_gpus

    for flag, size in (("--tensor-parallel-size", tensor_parallel), ("--pipeline-parallel-size", pipeline_parallel),
                       ("--data-parallel-size", data_parallel)):
        if size is not None and size < 1:
            raise HarnessError(f"{flag} {size} must be at least 1")
    if data_parallel is not None and data_parallel > 1 and backend == "openai":
        raise HarnessError("--data-parallel-size splits requests across local engines; a server batches its own "
                           "requests (raise max_concurrency in --model-args instead)")
    if backend == "openai" or device == "cpu" or not torch.cuda.is_available():
        return tensor_parallel
    need = resolved.spec.min_gpus if resolved.spec else 1
    if backend == "vllm" and tensor_parallel is None and pipeline_parallel is None and need > 1:
        tensor_parallel = need
    per_engine = (tensor_parallel or 1) * (pipeline_parallel or 1) if backend == "vllm" else need
    # data-parallel engines are Ray actors: the cluster's scheduler finds each its GPUs
    visible = torch.cuda.device_count() if (data_parallel or 1) == 1 else per_engine
    check_gpus(resolved.name, need, per_engine, visible)
    return tensor_parallel


def _vllm_options(backend: str, **options: Any) -> dict[str, Any]:
    """vLLM-only options, refused with one line on other backends."""
    given = {k: v for k, v in options.items() if v is not None}
    if given and backend != "vllm":
        flags = ", ".join("--" + k.replace("_", "-") for k in given)
        raise HarnessError(f"{flags} only apply to --backend vllm; this run uses {backend}")
    return given


# vLLM engines take ~30 s to start: the last one stays warm for later run() calls in this process.
_WARM: dict[tuple, Any] = {}


def _open_engine(name: str, resolved: Any, *, device: str, dtype: str, batch_size: int,
                 model_args: dict[str, Any], data_parallel_size: int | None = None,
                 **extra: Any) -> tuple[Any, bool]:
    """A backend instance and whether the caller owns it (and must close it)."""
    from harness.backends import load_backend_class

    if data_parallel_size is not None and data_parallel_size > 1:
        from harness.distributed.data_parallel import DataParallelBackend

        per_engine = model_args.get("tensor_parallel_size", 1) * model_args.get("pipeline_parallel_size", 1)
        return DataParallelBackend(name, resolved, data_parallel_size, gpus_per_engine=per_engine, device=device,
                                   dtype=dtype, batch_size=batch_size, model_args=model_args), True
    cls = load_backend_class(name)
    if name != "vllm":
        return cls(resolved, device=device, dtype=dtype, batch_size=batch_size, model_args=model_args, **extra), True
    key = (name, resolved.fingerprint, resolved.path, device, dtype, json.dumps(model_args, sort_keys=True))
    if key not in _WARM:
        release_engines()
        _WARM[key] = cls(resolved, device=device, dtype=dtype, batch_size=batch_size, model_args=model_args)
    engine = _WARM[key]
    engine.batch_size = batch_size
    return engine, False


def release_engines() -> None:
    """Shut down the warm vLLM engine kept between ``run()`` calls in this process."""
    for engine in _WARM.values():
        engine.close()
    _WARM.clear()


def _execute(store: Store, tasks: dict[str, Any], engine: Any, run_ids: dict[str, str], invocation_id: str,
             quiet: bool, reuse: Any, log: Callable[[str], None], costs: dict[str, Any],
             memory_device: str | None) -> list[dict[str, Any]]:
    """Evaluate, streaming rows to the store; mark the runs failed or interrupted when it stops early.
    ``costs`` (load time) is recorded with each run, with the peak memory on ``memory_device`` when given."""
    from harness.devices import peak_memory_mb
    from harness.progress import Progress
    from harness.store.recorder import RunRecorder
    from harness.text.evaluate import evaluate

    total = sum(inst.repeats for task in tasks.values() for inst in task.instances)
    progress = Progress(total, "evaluating", quiet=quiet)
    recorder = RunRecorder(store, run_ids)
    try:
        outcomes = evaluate(tasks, engine, recorder, progress=progress.update, reuse=reuse, log=log)
        recorder.close()
    except BaseException as exc:
        recorder.close_after(exc)
        raise
    finally:
        progress.close()
    if memory_device is not None:
        costs = costs | {"peak_memory_mb": peak_memory_mb(memory_device)}
    results = []
    for name, outcome in outcomes.items():
        seconds = max(outcome.seconds, 1e-9)
        store.finish_run(run_ids[name], outcome.metrics, {**costs,
            "n_samples": outcome.n_samples, "n_requests": outcome.n_requests, "duration_s": outcome.seconds,
            "samples_per_s": outcome.n_samples / seconds, "requests_per_s": outcome.n_requests / seconds})
        results.append({"run_id": run_ids[name], "invocation_id": invocation_id, "task": name,
                        "status": "finished", "n_samples": outcome.n_samples, "metrics": outcome.metrics})
    return results


# run() arguments a sweep sets per job, or that only make sense for one run
_NOT_SWEEP_OPTIONS = {"model", "task", "revision", "db", "log", "resume", "skip_finished"}


def sweep(models: str | list[str], tasks: str | list[str], *, revisions: str | list[str] | None = None,
          executor: str = "local", address: str | None = None, max_retries: int = 2, workers: int | None = None,
          db: str | Path | None = None, log: Callable[[str], None] = _log, **options: Any) -> dict[str, Any]:
    """Evaluate every (model × revision × task), skipping runs already finished with the same request.

    ``options`` are ``run()``'s keyword arguments, the same for every job. ``executor="ray"`` runs jobs as Ray
    tasks on the cluster at ``address`` (or ``$RAY_ADDRESS``; a local cluster otherwise), at most ``workers`` at a
    time; the driver is the only writer of the store. A failed job is retried ``max_retries`` times, then recorded
    as failed. Returns ``{"sweep_id", "jobs": [{"job", "model", "revision", "task", "status", "attempts",
    "error", "run_ids", ...}]}``; status is finished, failed or skipped.
    """
    import inspect

    from harness.sweep.plan import parse_revisions, plan_jobs, split_list
    from harness.sweep.runner import run_sweep

    known = set(inspect.signature(run).parameters) - _NOT_SWEEP_OPTIONS
    unknown = sorted(set(options) - known)
    if unknown:
        raise TypeError(f"sweep() got unknown run option(s): {', '.join(unknown)}")
    if executor not in ("local", "ray"):
        raise HarnessError(f"--executor {executor!r}: use local or ray")
    if executor == "local" and address is not None:
        raise HarnessError("--address joins a Ray cluster; add --executor ray")
    if executor == "local" and workers not in (None, 1):
        raise HarnessError("the local executor runs one job at a time; --workers needs --executor ray")
    if workers is not None and workers < 1:
        raise HarnessError(f"--workers {workers} must be at least 1")
    if max_retries < 0:
        raise HarnessError(f"--max-retries {max_retries} must be 0 or more")
    if options.get("batch_size", 8) < 1:
        raise HarnessError(f"--batch-size {options['batch_size']} must be at least 1")
    request_hash(options, False)  # malformed --limit, --seed, --model-args, --gen-kwargs fail before any job
    model_names, task_names = split_list(models, "--models"), split_list(tasks, "--tasks")
    store = _store(db)
    store.ensure_ready()
    jobs = plan_jobs(model_names, task_names, parse_revisions(revisions), options, store, log)
    from harness.sweep.executors import LocalExecutor, RayExecutor

    make = (lambda: RayExecutor(address, options, workers)) if executor == "ray" else (
        lambda: LocalExecutor(store, options, log))
    return run_sweep(jobs, executor, make, store, max_retries=max_retries, log=log)


def runs(db: str | Path | None = None) -> list[dict[str, Any]]:
    """Every stored run, newest first."""
    return _store(db).list_runs()


def show(run_id: str, db: str | Path | None = None) -> dict[str, Any]:
    """One run and its metrics: ``{"run": {...}, "metrics": [...]}``."""
    return _store(db).get_run(run_id)


def delete(run_ids: list[str], db: str | Path | None = None) -> list[str]:
    """Delete runs (ids or unique prefixes) with their samples; returns the ids deleted."""
    return _store(db).delete(run_ids)


def export(run_id: str, format: str = "jsonl", out: str | Path | None = None,
           db: str | Path | None = None) -> list[dict[str, Any]]:
    """Export a run's samples as jsonl, csv or parquet; returns the rows written."""
    from harness.store.export import export_rows, write_rows

    rows = export_rows(_store(db), run_id)
    write_rows(rows, format, out)
    return rows


def models(pattern: str | None = None, modality: str | None = None) -> list[dict[str, Any]]:
    """Registered models matching a name pattern and modality."""
    from harness.registry import find_models

    return [spec.summary() for spec in find_models(pattern, modality)]


def tasks(pattern: str | None = None, include_path: list[str] | None = None,
          lm_eval_builtins: bool = False) -> list[dict[str, str]]:
    """Registered task, group and tag names (lm-eval's built-ins too when asked)."""
    from harness.text.tasks import list_tasks

    return list_tasks(pattern, include_path, lm_eval_builtins)


def doctor(db: str | Path | None = None) -> list[str]:
    """Problems with this environment, one line each with its fix; empty when healthy."""
    from harness.doctor import check_environment

    return check_environment(_store(db).path)


def tag(run_refs: list[str], name: str, db: str | Path | None = None) -> list[str]:
    """Tag runs (ids, prefixes, invocation ids or tags); a tag keeps one run per model and task, the newest tagged."""
    store = _store(db)
    ids = [run_id for ref in run_refs for run_id in store.runs_named(ref)]
    return store.tag(ids, name)


def untag(name: str, db: str | Path | None = None) -> int:
    """Remove a tag from every run carrying it; returns how many did."""
    removed = _store(db).untag(name)
    if not removed:
        raise HarnessError(f"no run carries the tag {name!r}; 'harness tags' lists them")
    return removed


def tags(db: str | Path | None = None) -> list[dict[str, Any]]:
    """Every tag and the runs it names."""
    return _store(db).tags()


def leaderboards() -> list[dict[str, str]]:
    """The built-in leaderboard definitions."""
    from harness.report.definitions import list_leaderboards

    return list_leaderboards()


def leaderboard(name: str, out: str | Path | None = None, *, tag: str | None = None,
                include_path: list[str] | None = None, db: str | Path | None = None) -> dict[str, Any]:
    """Build a leaderboard's table from the store and, with ``out``, its static HTML site.

    Returns ``{"table": Table, "site": {...} or None}``; ``name`` is a built-in definition or a YAML file.
    """
    from harness.report.definitions import load_leaderboard
    from harness.report.site import build_site
    from harness.report.table import build_table

    board = load_leaderboard(name, include_paths=include_path)
    store = _store(db)
    table = build_table(board, store, tag)
    site = build_site(table, store, Path(out)) if out is not None else None
    return {"table": table, "site": site}


def compare(ref_a: str, ref_b: str, *, force: bool = False, db: str | Path | None = None) -> list[Any]:
    """Per task and metric, run(s) B against run(s) A with a paired test; refs as in ``gate``."""
    from harness.gate.compare import compare_runs
    from harness.gate.outcomes import load_ref

    store = _store(db)
    return compare_runs(load_ref(ref_a, store), load_ref(ref_b, store), force=force)


def gate(baseline: str, candidate: str, *, leaderboard: str | None = None, max_drop: float = 0.0,
         alpha: float = 0.05, force: bool = False, include_path: list[str] | None = None,
         db: str | Path | None = None) -> list[Any]:
    """The regression gate: one ``Check`` per task and metric; any ``fail`` verdict fails the gate.

    ``baseline`` and ``candidate`` are each a baseline file, a tag, an invocation id or a run id (tried in that
    order). A metric fails when it dropped by more than ``max_drop`` (absolute, in its own units; an increase
    for lower-is-better metrics) and its paired test is significant at ``alpha``.
    """
    from harness.gate.compare import compare_runs
    from harness.gate.outcomes import load_ref
    from harness.gate.verdict import judge

    if max_drop < 0:
        raise HarnessError(f"--max-drop {max_drop:g} must be 0 or more (an absolute drop in the metric's units)")
    if not 0 < alpha < 1:
        raise HarnessError(f"--alpha {alpha:g} must be between 0 and 1")
    only = None
    if leaderboard is not None:
        from harness.report.definitions import load_leaderboard

        only = {(c.task, c.metric) for c in load_leaderboard(leaderboard, include_paths=include_path).columns}
    store = _store(db)
    comparisons = compare_runs(load_ref(baseline, store), load_ref(candidate, store), force=force, only=only)
    if not comparisons:
        raise HarnessError("nothing to compare: the baseline has no numeric metric"
                           + (f" among leaderboard {leaderboard}'s columns" if leaderboard else ""))
    return judge(comparisons, max_drop, alpha)


def export_baseline(run_refs: list[str], out: str | Path, db: str | Path | None = None) -> dict[str, Any]:
    """Write finished runs' metrics and per-sample outcomes to a versioned JSON baseline file for ``gate``."""
    from harness import __version__
    from harness.gate.outcomes import from_store, write_baseline

    store = _store(db)
    ids = list(dict.fromkeys(run_id for ref in run_refs for run_id in store.runs_named(ref)))
    return write_baseline(from_store(store, ids), Path(out), __version__)


__all__ = ["run", "sweep", "request_hash", "runs", "show", "delete", "export", "models", "tasks", "doctor",
           "release_engines", "parse_seed", "parse_kv", "tag", "untag", "tags", "leaderboards", "leaderboard",
           "compare", "gate", "export_baseline", "SCHEMA_VERSION"]
