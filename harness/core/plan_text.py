"""Planning a run of lm-eval tasks: tasks loaded and their requests built with the model's prompt format,
settings and hashes computed as the run will record them, and the store asked what is already answered."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import HarnessError
from harness.core.identity import PromptFormatter, settings_hash
from harness.store.cache_keys import cache_namespace
from harness.core.model_choice import ModelChoice, choose_model
from harness.core.plans import Plan, TaskPlan
from harness.core.request import RunRequest
from harness.store import Store


@dataclass
class TextWork:
    """What the text runner needs from the plan: the model choice, lm-eval task objects with their requests
    built, and where responses can come from without a model call."""

    choice: ModelChoice
    tasks: dict[str, Any]
    reuse: Any  # harness.text.evaluate.Reuse
    groups: dict[str, Any]  # lm-eval's groups of those tasks (for lm-eval's output files)


def plan_text(request: RunRequest, store: Store, *, fetch: bool, reuse_finished: bool) -> Plan:
    """Plan ``request`` over lm-eval tasks (see ``harness.core.plan.plan``)."""
    from harness.core.environment import set_seeds
    from harness.core.teacher import TASK, attach_teacher, teacher_request
    from harness.text.evaluate import Reuse, build_requests
    from harness.text.strategies import system_prompts

    request.check_for_text()
    choice = choose_model(request, fetch)
    set_seeds(request.seed)
    tasks, groups = load_text_tasks(request, list(request.tasks))
    prompts = system_prompts(tasks, request.prompt_strategy, request.system_instruction)
    asked = teacher_request(request, list(tasks))
    teacher = plan_text(asked, store, fetch=fetch, reuse_finished=True) if asked is not None else None
    teacher_settings = attach_teacher(request, tasks, teacher, store, lambda metadata: load_text_tasks(
        request, [TASK], metadata)[0][TASK]) if teacher is not None else {}
    chat = request.apply_chat_template if request.apply_chat_template is not None else choice.chat_default
    formatter = PromptFormatter(request.model, choice.resolved.path, choice.backend,
                                bool(choice.model_args.get("trust_remote_code")))
    chat_hash = formatter.template_hash() if chat else None
    fingerprint = f"{choice.resolved.fingerprint}+chat:{chat_hash}" if chat_hash else choice.resolved.fingerprint
    build_requests(tasks, formatter, limit=request.limit, apply_chat_template=chat, system_instructions=prompts,
                   fewshot_as_multiturn=request.fewshot_as_multiturn)
    shared = shared_settings(request, choice, chat, formatter.chat_template if chat else None, chat_hash)
    plans = []
    for name, task in tasks.items():
        settings = task_settings(request, task, shared, prompts[name], teacher_settings.get(name, {}))
        plans.append(_decide(request, store, name, task, settings, fingerprint, reuse_finished))
    if isinstance(request.resume, str) and not any(p.action == "resume" for p in plans):
        raise HarnessError(f"run {request.resume} does not match this model, task and settings; run it with the "
                           "command that started it, or drop the run id to resume the latest matching run")
    reuse = Reuse(namespace=_namespace(choice) if request.use_cache else None)
    _count_answered(plans, tasks, reuse, store)
    if teacher is not None and teacher.needs_model:
        for task_plan in plans:
            if task_plan.name in teacher_settings:
                task_plan.note = "its teacher answers first; planned again then"
    return Plan(request, "text", request.model, fingerprint, choice.backend, choice.reason,
                {**choice.engine, "data_parallel_size": choice.data_parallel_size}, plans, teacher,
                TextWork(choice, tasks, reuse, groups))


def load_text_tasks(request: RunRequest, names: list[str],
                    metadata: dict | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """lm-eval task objects with the request's overrides (few-shot count, generation settings, seed), and their
    groups."""
    from harness.text.tasks import load_task_dict

    return load_task_dict(names, include_paths=request.include_path, num_fewshot=request.num_fewshot,
                      gen_kwargs=request.gen_kwargs, fewshot_seed=request.seed[3],
                      metadata=metadata if metadata is not None else request.metadata)


def shared_settings(request: RunRequest, choice: ModelChoice, chat: bool, template: str | None,
                    chat_hash: str | None) -> dict[str, Any]:
    """The settings every task of the run records."""
    return {
        "limit": request.limit, "seed": request.seed, "apply_chat_template": chat, "chat_template": template,
        "chat_template_hash": chat_hash, "prompt_strategy": request.prompt_strategy,
        "fewshot_as_multiturn": request.fewshot_as_multiturn, "model_args": choice.model_args,
        "backend": choice.backend, "dtype": choice.engine["dtype"], "max_length": choice.engine.get("max_length"),
        "batch_size": choice.batch_size, "device": choice.engine["device"],
        "data_parallel_size": choice.data_parallel_size, "request_hash": request.request_hash(choice.chat_default),
        **({"adapter": str(Path(request.adapter).resolve())} if request.adapter is not None else {}),
        **({"quantization": request.quantization} if request.quantization is not None else {}),
    }


def task_settings(request: RunRequest, task: Any, shared: dict[str, Any], system_prompt: str | None,
                  extra: dict[str, Any]) -> dict[str, Any]:
    """One task's settings, as its run records them."""
    return {"num_fewshot": task.get_config("num_fewshot"), **shared, "system_instruction": system_prompt, **extra,
            "system_prompt_from": "explicit" if request.system_instruction is not None else (
                "strategy" if system_prompt else None),
            "gen_kwargs": task.get_config("generation_kwargs")
            if task.get_config("output_type") == "generate_until" else None}


def _decide(request: RunRequest, store: Store, name: str, task: Any, settings: dict[str, Any], fingerprint: str,
            reuse_finished: bool) -> TaskPlan:
    """New run, resume RUN or reuse RUN for one task."""
    from harness.text.tasks import task_hash

    digest, settings_digest = task_hash(task), settings_hash(settings)
    plan = TaskPlan(name, digest, settings, settings_digest)
    done = store.finished_match(fingerprint, digest, settings_digest) if reuse_finished else None
    resumed = resumable(store, request.resume, fingerprint, digest, settings_digest) if request.resume else None
    if done:
        plan.action, plan.run_id = "reuse", done
    elif resumed:
        plan.action, plan.run_id = "resume", resumed
    return plan


def resumable(store: Store, resume: bool | str, fingerprint: str, task_digest: str, settings_digest: str) -> str | None:
    """The run ``--resume`` continues for a task: the one named, or the latest unfinished match."""
    if not isinstance(resume, str):
        return store.resumable(fingerprint, task_digest, settings_digest)
    shown = store.get_run(resume)["run"]
    if (shown["model_fingerprint"], shown["task_hash"], shown["settings_hash"]) != (fingerprint, task_digest,
                                                                                     settings_digest):
        return None
    if shown["status"] in ("finished", "running"):
        raise HarnessError(f"run {shown['run_id']} is {shown['status']}; only failed or interrupted runs resume")
    return shown["run_id"]


def _namespace(choice: ModelChoice) -> str:
    from harness.backends.base import output_args
    from harness.registry.backends import backend_class

    declared = backend_class(choice.backend).args
    return cache_namespace(choice.resolved.fingerprint, choice.backend, choice.engine,
                           output_args(declared, choice.model_args))


def _count_answered(plans: list[TaskPlan], tasks: dict[str, Any], reuse: Any, store: Store) -> None:
    """How many of each task's requests a resumed run or the cache already answers; fills ``reuse``."""
    from harness.store.cache_keys import cache_key

    keys = {}
    for task_plan in plans:
        if task_plan.action == "resume":
            reuse.resumed[task_plan.name] = store.run_responses(task_plan.run_id)
        items = [(inst, r) for inst in tasks[task_plan.name].instances for r in range(inst.repeats)]
        task_plan.requests = len(items)
        keys[task_plan.name] = [((inst.doc_id, inst.idx, r), cache_key(reuse.namespace, inst.request_type, inst.args))
                                for inst, r in items]
    wanted = sorted({key for found in keys.values() for _, key in found if key})
    reuse.cached = store.cached_responses(wanted) if wanted else {}
    for task_plan in plans:
        resumed = reuse.resumed.get(task_plan.name, {})
        task_plan.answered = sum(1 for where, key in keys[task_plan.name] if where in resumed or key in reuse.cached)
