"""The run core's decisions, made without loading any model: options and their applicability, the plan's
action per task (new, resume, reuse) from a store laid out by the test, and requests answered by the cache."""

from __future__ import annotations

import pytest

from harness.core.options import OPTIONS, REQUEST_KEYS
from harness.core.plan import plan
from harness.core.request import RunRequest
from harness.errors import HarnessError
from harness.store import Store, process_identity, utcnow


@pytest.fixture
def no_weights(monkeypatch, tiny_pythia_path):
    """Loading any transformers model raises (tiny twins are built before)."""
    import transformers

    def refuse(*args, **kwargs):
        raise AssertionError("weights were loaded")

    monkeypatch.setattr(transformers.PreTrainedModel, "from_pretrained", classmethod(refuse))
    monkeypatch.setattr(transformers.AutoModelForCausalLM, "from_pretrained", classmethod(refuse))


def request(**options) -> RunRequest:
    options = {"model": "tiny-pythia", "task": "finance_sentiment", "limit": 5, "log": lambda _: None} | options
    return RunRequest.build(options.pop("model"), options.pop("task"), **options)


def lay_out(store: Store, planned, status: str, **extra) -> str:
    """Write a run row with the plan's identity and hashes, as an earlier run would have left it."""
    task = planned.tasks[0]
    run_id = f"20260101-000000-{status[:6]}"
    store.create_runs([{"run_id": run_id, "invocation_id": "inv", "model": planned.model,
                        "model_fingerprint": planned.fingerprint, "model_source": "tiny", "dtype": "float32",
                        "backend": planned.backend, "device": "cpu", "task": task.name, "task_hash": task.task_hash,
                        "output_type": "multiple_choice", "settings": "{}", "settings_hash": task.settings_hash,
                        "status": "running", "started_at": utcnow(), **process_identity(), **extra}])
    if status == "finished":
        store.finish_run(run_id, [], {"n_samples": 5})
    else:
        store.end_runs([run_id], status, "drill")
    return run_id


def test_every_option_is_declared_once_with_a_flag_and_its_kind():
    names = [o.name for o in OPTIONS]
    assert len(names) == len(set(names))
    flags = [flag for o in OPTIONS for flag in (o.flags or (o.flag,))]
    assert len(flags) == len(set(flags))
    assert {o.scope for o in OPTIONS} == {"any", "text", "native"}
    assert "batch_size" not in REQUEST_KEYS and "limit" in REQUEST_KEYS and "data_parallel_size" not in REQUEST_KEYS


def test_the_cli_offers_exactly_the_declared_options():
    from harness.cli import build_parser

    parser = build_parser()
    run = parser._subparsers._group_actions[0].choices["run"]
    dests = {action.dest for action in run._actions}
    assert {o.name for o in OPTIONS if "run" in o.commands} <= dests
    assert "skip_finished" not in dests  # declared for the API only


@pytest.mark.parametrize(("options", "message"), [
    ({"images": "x"}, "--images only apply to harness-native tasks"),
    ({"data": "x"}, "--data gives a vision or video task its images"),
    ({"base_url": "http://h/v1"}, "--base-url only applies to --backend openai; this run uses transformers"),
    ({"tensor_parallel_size": 2, "max_model_len": 64},
     "--tensor-parallel-size, --max-model-len only apply to --backend vllm; this run uses transformers"),
    ({"limit": 0}, "--limit 0 must be positive"),
    ({"limit": float("nan")}, "--limit nan must be positive"),
    ({"batch_size": 0}, "--batch-size 0 must be at least 1"),
    ({"model_args": "max_length"}, "--model-args: 'max_length' is not key=value"),
    ({"model_args": "colour=red"}, "--model-args: unknown key(s) colour for the transformers backend"),
    ({"metadata": "[1]"}, "--metadata must be a JSON object"),
])
def test_options_are_checked_from_their_declaration_before_anything_loads(options, message, db, no_weights):
    with pytest.raises(HarnessError, match=message.replace("(", r"\(").replace(")", r"\)")):
        plan(request(**options), Store(db, read_only=True))
    assert not db.exists()


def test_text_only_options_are_refused_for_native_tasks(db):
    asked = request(task="classification_digits", model="tiny-vit", prompt_strategy="direct", resume=True)
    with pytest.raises(HarnessError, match="--prompt-strategy, --resume only apply to text tasks"):
        plan(asked, Store(db, read_only=True))


def test_a_new_store_plans_new_runs_and_stays_unwritten(db, no_weights):
    planned = plan(request(), Store(db, read_only=True), fetch=False)
    (task,) = planned.tasks
    assert (task.action, task.run_id, task.answered, task.requests) == ("new", None, 0, 15)
    assert planned.backend == "transformers" and planned.reason == "auto"
    assert planned.engine["dtype"] == "float32" and planned.engine["max_length"] == 2048
    assert task.settings["request_hash"] == request().request_hash(chat_default=False)
    assert planned.needs_model and not db.exists()


def test_finished_and_unfinished_runs_in_the_store_decide_reuse_and_resume(db, no_weights):
    store = Store(db)
    first = plan(request(), store)
    failed = lay_out(store, first, "failed")
    assert plan(request(), store).tasks[0].action == "new"  # resuming is asked for, never assumed
    resumed = plan(request(resume=True), store).tasks[0]
    assert (resumed.action, resumed.run_id) == ("resume", failed)
    finished = lay_out(store, first, "finished")
    reused = plan(request(), store, reuse_finished=True).tasks[0]
    assert (reused.action, reused.run_id, reused.needs_model) == ("reuse", finished, False)
    other = plan(request(limit=6), store, reuse_finished=True).tasks[0]
    assert other.action == "new" and other.settings_hash != first.tasks[0].settings_hash


def test_resuming_a_named_run_that_does_not_match_is_refused(db, no_weights):
    store = Store(db)
    failed = lay_out(store, plan(request(), store), "failed")
    with pytest.raises(HarnessError, match=f"run {failed} does not match"):
        plan(request(limit=6, resume=failed), store)


def test_cached_requests_are_counted_and_a_fully_cached_task_needs_no_model(db, no_weights):
    from harness.store.cache_keys import cache_key

    store = Store(db)
    first = plan(request(), store)
    run_id = lay_out(store, first, "finished")
    instances = first.work.tasks["finance_sentiment"].instances
    rows = [{"run_id": run_id, "doc_id": i.doc_id, "idx": i.idx, "repeat": 0, "request_type": i.request_type,
             "arguments": "[]", "response": "[-1.0, false]",
             "cache_key": cache_key(first.work.reuse.namespace, i.request_type, i.args)} for i in instances]
    store.append(rows[:6], [], [])
    partly = plan(request(), store).tasks[0]
    assert (partly.answered, partly.requests, partly.needs_model) == (6, 15, True)
    store.append(rows[6:], [], [])
    planned = plan(request(), store)
    assert (planned.tasks[0].answered, planned.needs_model) == (15, False)
    assert plan(request(use_cache=False), store).tasks[0].answered == 0


def test_the_chat_template_is_part_of_the_fingerprint_and_settings(db, no_weights):
    chat = plan(request(model="tiny-llama-2-chat"), Store(db, read_only=True))
    plain = plan(request(model="tiny-llama-2-chat", apply_chat_template=False), Store(db, read_only=True))
    assert "+chat:" in chat.fingerprint and "+chat:" not in plain.fingerprint
    assert chat.tasks[0].settings["chat_template"] and plain.tasks[0].settings["chat_template"] is None
