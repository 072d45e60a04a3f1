"""The pieces a sweep stands on: request hashes, planned fingerprints, moving runs between stores, GPU needs."""

from __future__ import annotations

import shutil

import pytest

import harness
from harness.api import request_hash
from harness.devices import check_gpus
from harness.errors import HarnessError
from harness.models.resolve import planned_fingerprint, resolve_model
from harness.registry import get_model
from harness.store import Store
from harness.store.transfer import all_run_ids, bundle_runs, dump_runs, record_job, sweep_jobs
from harness.sweep.plan import parse_revisions, split_list
from tests.helpers import run_cli


def test_request_hash_normalises_what_means_the_same_and_separates_what_does_not():
    base = request_hash({}, chat_default=False)
    assert request_hash({"backend": "auto", "seed": "0,1234,1234,1234", "device": "auto"}, False) == base
    assert request_hash({"limit": 10}, False) == request_hash({"limit": 10.0}, False)
    assert request_hash({"backend": "hf"}, False) == request_hash({"backend": "transformers"}, False)
    assert request_hash({"model_args": "max_length=64"}, False) == request_hash({"model_args": {"max_length": 64}},
                                                                                False)
    assert request_hash({"apply_chat_template": None}, True) == request_hash({"apply_chat_template": True}, False)
    assert request_hash({"batch_size": 1, "data_parallel_size": 4, "quiet": True}, False) == base  # outputs unchanged
    different = [{"limit": 11}, {"seed": 1}, {"num_fewshot": 2}, {"dtype": "bfloat16"}, {"prompt_strategy": "direct"},
                 {"gen_kwargs": "max_gen_toks=8"}, {"tensor_parallel_size": 2}, {"apply_chat_template": True}]
    assert len({request_hash(options, False) for options in different} | {base}) == len(different) + 1
    with pytest.raises(HarnessError, match="--limit"):
        request_hash({"limit": -1}, False)


def test_runs_record_the_request_hash_the_planner_computes(db):
    result = harness.run(model="tiny-pythia", task="finance_sentiment", limit=3, db=db, quiet=True, log=lambda _: None)
    settings = harness.show(result[0]["run_id"], db=db)["run"]["settings"]
    assert settings["request_hash"] == request_hash({"limit": 3}, chat_default=False)
    fingerprint = resolve_model("tiny-pythia").fingerprint
    found = Store(db).finished_requests()
    assert found == {(fingerprint, harness.show(result[0]["run_id"], db=db)["run"]["task_hash"],
                      settings["request_hash"]): result[0]["run_id"]}


def test_planned_fingerprint_equals_the_resolved_one_without_loading(tmp_path, monkeypatch, tiny_pythia_path):
    assert planned_fingerprint("tiny-pythia")[0] == resolve_model("tiny-pythia").fingerprint
    # a hub checkpoint in the local cache, laid out as huggingface_hub lays it out
    from huggingface_hub import constants

    commit = "0123456789abcdef0123456789abcdef01234567"
    repo = tmp_path / "hub" / "models--EleutherAI--pythia-70m"
    shutil.copytree(tiny_pythia_path, repo / "snapshots" / commit)
    (repo / "refs").mkdir()
    (repo / "refs" / "step3000").write_text(commit)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    planned, spec = planned_fingerprint("pythia-70m@step3000")
    assert planned == resolve_model("pythia-70m", "step3000").fingerprint == f"EleutherAI/pythia-70m@{commit}"
    assert spec.name == "pythia-70m"
    assert planned_fingerprint("pythia-70m", "step9000")[0] is None  # neither cached nor reachable offline


def test_a_bundle_moves_runs_with_everything_stored_for_them(tmp_path):
    source = tmp_path / "worker.duckdb"
    harness.run(model="tiny-pythia", task="finance_sentiment,finance_numeric", limit=4, db=source, tag="t1",
                quiet=True, log=lambda _: None)
    ids = all_run_ids(Store(source))
    bundle = dump_runs(Store(source), ids)
    assert sorted(bundle_runs(bundle)) == sorted(ids)
    target = Store(tmp_path / "driver.duckdb")
    record_job(target, {"sweep_id": "s1", "job": 0, "model": "tiny-pythia", "revision": None, "task": "finance",
                        "status": "finished", "attempts": 1, "error": None, "run_ids": ids, "executor": "ray",
                        "seconds": 1.5}, bundle)
    for table in ("runs", "metrics", "samples", "requests", "tags"):
        assert dump_runs(target, ids)[table].sort_by("run_id").equals(bundle[table].sort_by("run_id")), table
    assert sorted(harness.tags(db=target.path)[0]["runs"]) == sorted(ids)
    assert [(j["status"], j["run_ids"]) for j in sweep_jobs(target, "s1")] == [("finished", ids)]


def test_a_job_row_and_its_runs_are_written_together_or_not_at_all(tmp_path):
    source = tmp_path / "worker.duckdb"
    harness.run(model="tiny-pythia", task="finance_sentiment", limit=2, db=source, quiet=True, log=lambda _: None)
    bundle = dump_runs(Store(source), all_run_ids(Store(source)))
    target = Store(tmp_path / "driver.duckdb")
    job = {"sweep_id": "s1", "job": 0, "model": "tiny-pythia", "revision": None, "task": "finance_sentiment",
           "status": "finished", "attempts": 1, "error": None, "run_ids": [], "executor": "ray", "seconds": 1.0}
    record_job(target, job, bundle)
    other = Store(tmp_path / "other.duckdb")
    harness.run(model="tiny-pythia", task="finance_sentiment", limit=2, db=other.path, quiet=True, log=lambda _: None)
    with pytest.raises(Exception, match="sweep_jobs|[Dd]uplicate|[Cc]onstraint"):
        record_job(target, job, dump_runs(other, all_run_ids(other)))  # its runs insert, then the job key clashes
    assert all_run_ids(target) == all_run_ids(Store(source))  # nothing of the second landed


def test_registry_records_the_gpus_big_models_need():
    assert get_model("mixtral-8x7b").min_gpus == 2 and get_model("mixtral-8x7b-instruct").min_gpus == 2
    assert get_model("llama-2-70b").min_gpus == 2
    assert get_model("mistral-7b").min_gpus == 1 and get_model("tiny-mixtral").min_gpus == 1
    assert harness.api.models("mixtral-8x7b")[0]["min_gpus"] == 2


def test_gpu_checks_refuse_with_one_line():
    check_gpus("mixtral-8x7b", 2, 2, 2)
    check_gpus("mixtral-8x7b", 2, 4, 8)
    with pytest.raises(HarnessError, match=r"mixtral-8x7b needs at least 2 GPUs of 80 GB in bfloat16 and 1 is visible"):
        check_gpus("mixtral-8x7b", 2, 2, 1)
    with pytest.raises(HarnessError, match="asks for 4 GPUs and 2 are visible"):
        check_gpus("mistral-7b", 1, 4, 2)
    with pytest.raises(HarnessError, match="gives mixtral-8x7b 1 GPU"):
        check_gpus("mixtral-8x7b", 2, 1, 4)


def test_parallel_flags_are_checked_before_anything_loads(db):
    proc = run_cli("run", "--model", "tiny-pythia", "--task", "finance_sentiment", "--data-parallel-size", "0",
                   "--db", str(db))
    assert proc.returncode == 2 and "--data-parallel-size 0 must be at least 1" in proc.stderr
    proc = run_cli("run", "--model", "tiny-pythia", "--task", "finance_sentiment", "--pipeline-parallel-size", "2",
                   "--backend", "transformers", "--db", str(db))
    assert proc.returncode == 2 and "--pipeline-parallel-size only apply to --backend vllm" in proc.stderr
    proc = run_cli("run", "--model", "tiny-vit", "--task", "classification_digits", "--data-parallel-size", "2",
                   "--db", str(db))
    assert proc.returncode == 2 and "--data-parallel-size only apply to text tasks" in proc.stderr


def test_sweep_lists_are_parsed_like_task_lists():
    assert split_list(["a,b", "c", "a"], "--models") == ["a", "b", "c"]
    assert parse_revisions(None) == [None]
    assert parse_revisions("step1000, step2000") == ["step1000", "step2000"]
    with pytest.raises(HarnessError, match="--models: give at least one name"):
        split_list(" , ", "--models")


def test_a_bundled_tag_moves_to_the_newer_run_of_the_same_model_and_task(tmp_path):
    target = Store(tmp_path / "driver.duckdb")
    ids = []
    for n, task in enumerate(("finance_sentiment,finance_numeric", "finance_sentiment")):
        worker = Store(tmp_path / f"worker{n}.duckdb")
        harness.run(model="tiny-pythia", task=task, limit=2, db=worker.path, tag="release", quiet=True,
                    log=lambda _: None)
        ids.append(all_run_ids(worker))
        record_job(target, {"sweep_id": "s", "job": n, "model": "tiny-pythia", "revision": None, "task": task,
                            "status": "finished", "attempts": 1, "error": None, "run_ids": ids[-1],
                            "executor": "ray", "seconds": 1.0}, dump_runs(worker, ids[-1]))
    tagged = set(harness.tags(db=target.path)[0]["runs"])
    newest_sentiment = ids[1][0]
    first = {harness.show(r, db=target.path)["run"]["task"]: r for r in ids[0]}
    assert tagged == {newest_sentiment, first["finance_numeric"]}
