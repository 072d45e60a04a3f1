"""Carrying out a plan of lm-eval tasks: load the engine only when some request is not yet answered, then
evaluate, the writer streaming every batch to the store."""

from __future__ import annotations

import time
from typing import Any

from harness.records import RunResult
from harness.core.plans import Plan, TaskPlan
from harness.core.writer import RunIdentity, RunWriter, finished_result
from harness.store import Store


def run_text(plan: Plan, store: Store) -> list[RunResult]:
    """Evaluate the plan's pending tasks; reused runs are returned as they are."""
    request = plan.request
    log = request.log
    if not request.quiet:
        log(f"model {request.model} -> {plan.fingerprint}; backend: {plan.backend} ({plan.reason})")
    if request.batch_size == "auto" and not isinstance(plan.work.choice.batch_size, str):
        log(f"--batch-size auto: {plan.work.choice.batch_size} ({plan.engine['device']}, {plan.backend})")
    results = [finished_result(store, task.run_id) for task in plan.tasks if task.action == "reuse"]
    for task in plan.tasks:
        if task.action == "reuse":
            log(f"run {task.run_id}: {request.model} on {task.name} already finished with these settings; reused")
    pending = [task for task in plan.tasks if task.action != "reuse"]
    if not pending:
        return results
    engine, owned, load_s = _load(plan) if plan.needs_model else (None, False, 0.0)
    if engine is None:
        log("every request is answered by the cache or the resumed run: re-scoring without loading the model")
    elif isinstance(plan.work.choice.batch_size, str):  # --batch-size auto, found once the model loaded
        for task in pending:
            task.settings["batch_size"] = engine.batch_size
    try:
        return results + _evaluate(plan, pending, store, engine, load_s)
    finally:
        if owned:
            engine.close()


def _load(plan: Plan) -> tuple[Any, bool, float]:
    """The engine, whether this run owns it, and the seconds loading took; checked against the plan."""
    from harness.core.engines import check_engine, open_engine

    request = plan.request
    started = time.perf_counter()
    engine, owned = open_engine(plan.work.choice, device=request.device, dtype=request.dtype,
                                batch_size=plan.work.choice.batch_size, adapter=request.adapter,
                                quantization=request.quantization, base_url=request.base_url)
    try:
        check_engine(engine.describe(), plan.engine, plan.backend)
    except BaseException:
        if owned:
            engine.close()
        raise
    return engine, owned, time.perf_counter() - started


def _evaluate(plan: Plan, pending: list[TaskPlan], store: Store, engine: Any, load_s: float) -> list[RunResult]:
    """Create (or reopen) the runs, evaluate, and finish them; a stopped evaluation keeps what finished."""
    from harness.devices import peak_memory_mb
    from harness.progress import Progress
    from harness.text.evaluate import evaluate

    request, work = plan.request, plan.work
    writer = RunWriter(store, _identity(plan), request.log)
    resumed = {task.name: task.run_id for task in pending if task.action == "resume"}
    tasks = {task.name: work.tasks[task.name] for task in pending}
    sink = writer.start(pending, resumed, {name: task.OUTPUT_TYPE for name, task in tasks.items()})
    _announce(plan, pending, writer.run_ids, work.reuse)
    total = sum(inst.repeats for task in tasks.values() for inst in task.instances)
    progress = Progress(total, "evaluating", quiet=request.quiet)
    scored: dict[str, list] | None = {} if request.output_path else None
    started = (time.time(), time.perf_counter() - load_s)
    try:
        outcomes = evaluate(tasks, engine, sink, progress=progress.update, reuse=work.reuse, log=request.log,
                            scored=scored)
        writer.flush()
    except BaseException as exc:
        writer.stopped(exc)
        raise
    finally:
        progress.close()
    costs: dict[str, Any] = {"load_s": load_s, "peak_memory_mb": None}
    local = plan.backend == "transformers" and work.choice.data_parallel_size == 1 and engine is not None
    if local:  # an in-process model's memory (vLLM and data-parallel engines live in processes of their own)
        costs["peak_memory_mb"] = peak_memory_mb(plan.engine["device"])
    results = [writer.finish(name, outcome, costs) for name, outcome in outcomes.items()]
    if scored is not None:
        _write_lm_eval_output(plan, pending, tasks, engine, scored, started)
    return results


def _write_lm_eval_output(plan: Plan, pending: list[TaskPlan], tasks: dict[str, Any], engine: Any,
                          scored: dict[str, list], started: tuple[float, float]) -> None:
    """lm-eval's results file (and samples files) under ``--output-path``."""
    from harness.text import lm_eval_output

    request, choice = plan.request, plan.work.choice
    tokenizer = getattr(engine, "tokenizer", None)
    if tokenizer is None:  # re-scored from stored outputs: the tokenizer files alone
        from harness.core.identity import PromptFormatter

        tokenizer = PromptFormatter(plan.model, choice.resolved.path, plan.backend,
                                    bool(choice.model_args.get("trust_remote_code"))).tokenizer
    model = getattr(engine, "model", None)
    run = lm_eval_output.RunDescription(
        model=plan.model, backend=plan.backend, model_args=choice.model_args, settings=pending[0].settings,
        batch_size=str(request.raw["batch_size"]),
        gen_kwargs=request.gen_kwargs, tokenizer=tokenizer,
        num_parameters=sum(p.numel() for p in model.parameters()) if hasattr(model, "parameters") else -1,
        started=started[0], started_clock=started[1])
    for path in lm_eval_output.write(request.output_path, tasks, plan.work.groups, scored, run,
                                     log_samples=request.log_samples):
        request.log(f"wrote {path}")


def _identity(plan: Plan) -> RunIdentity:
    choice = plan.work.choice
    spec = choice.resolved.spec
    return RunIdentity(plan.model, plan.fingerprint, choice.resolved.source, choice.resolved.revision, plan.backend,
                       plan.engine["device"], plan.engine["dtype"],
                       spec.summary() if spec else {"name": plan.model})


def _announce(plan: Plan, pending: list[TaskPlan], run_ids: dict[str, str], reuse: Any) -> None:
    log, model = plan.request.log, plan.model
    for task in pending:
        if task.action == "resume":
            log(f"run {task.run_id}: resuming {model} on {task.name} ({len(reuse.resumed[task.name])} requests "
                "already done)")
    for task in pending:
        if task.action != "resume":
            log(f"run {run_ids[task.name]}: {model} on {task.name}")
    if plan.request.resume and not any(task.action == "resume" for task in pending):
        log("no unfinished run with this model, task and settings to resume; started new runs")
