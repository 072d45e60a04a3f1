"""Bad input and foreign files, as a careless user or an attacker would give them: one line naming what was
wrong and what to do, exit 2, no traceback, and nothing written to the store."""

from __future__ import annotations

import json
from pathlib import Path
import shutil
import time

import duckdb
import pytest

from harness.cli import main
from harness.store import Store
from harness.store.cache_keys import cache_key, cache_namespace

RUN = ["run", "--model", "tiny-pythia", "--task", "finance_sentiment", "--limit", "2"]
BAD_RUNS = [
    (["--limit", "nan"], "--limit nan must be positive"),
    (["--limit", "inf"], "--limit inf must be positive"),
    (["--device", "tpu"], "--device 'tpu': use auto, cpu, cuda or cuda:N"),
    (["--dtype", "float8"], "unknown --dtype 'float8'"),
    (["--num-fewshot", "-1"], "--num-fewshot -1 must be 0 or more"),
    (["--batch-size", "0"], "--batch-size 0 must be at least 1"),
    (["--model-args", "trust_remote_code=no"], "trust_remote_code='no' must be true or false"),
    (["--model-args", "shared_context=maybe"], "shared_context='maybe' must be true or false"),
    (["--model-args", "max_length=abc"], "max_length='abc' must be an integer"),
    (["--model-args", "device_map=bogus"], "device_map='bogus': use auto"),
    (["--model-args", "colour=red"], "unknown key(s) colour for the transformers backend"),
    (["--gen-kwargs", "max_gen_toks=lots"], "max_gen_toks='lots' must be an integer"),
    (["--gen-kwargs", "temperature=-1,do_sample=true"], "temperature=-1 must be at least 0"),
    (["--gen-kwargs", "top_p=2"], "top_p=2 must be above 0 and at most 1"),
    (["--metadata", "{not json"], "--metadata is not valid JSON"),
    (["--seed", "1,2"], "--seed '1,2': give one integer or four"),
    (["--base-url", "ftp://host"], "--base-url 'ftp://host': give the server's address"),
    (["--gpu-memory-utilization", "1.5", "--backend", "vllm"], "--gpu-memory-utilization 1.5 must be above 0"),
    (["--tensor-parallel-size", "2"], "--tensor-parallel-size only apply to --backend vllm"),
    (["--data", "x"], "--data gives a vision or video task its images"),
    (["--clicks", "2"], "--clicks only apply to harness-native tasks"),
    (["--tag", " spaced "], "--tag ' spaced ': give a non-empty name"),
    (["--resume", "nosuchrun"], "no run 'nosuchrun'"),
    (["--include-path", "/no/such/folder"], "--include-path /no/such/folder is not a folder"),
    (["--dry-run", "--limit", "0"], "--limit 0 must be positive"),
    (["--dry-run", "--model-args", "colour=red"], "unknown key(s) colour for the transformers backend"),
    (["--batch-size", "lots"], "--batch-size 'lots': give a number of requests, or auto"),
    (["--max-batch-size", "0"], "--max-batch-size 0 must be at least 1"),
    (["--output-path", str(Path(__file__))], "is a file; give a folder (or a name ending in .json)"),
    (["--log-samples"], "--log-samples writes lm-eval's samples files beside its results: add --output-path DIR"),
]


def one_line(capsys, code: int) -> str:
    """The single error line of a command that exited with ``code`` 2 (informational lines may precede it)."""
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error: ")]
    assert code == 2 and len(errors) == 1 and lines[-1] == errors[0], err
    assert "Traceback" not in err
    return errors[0]


def run_main(args: list[str]) -> int:
    try:
        return main(args)
    except SystemExit as exc:  # argparse's usage errors
        return int(exc.code)


@pytest.mark.parametrize(("extra", "message"), BAD_RUNS, ids=[" ".join(a) for a, _ in BAD_RUNS])
def test_each_bad_run_option_is_one_line_and_writes_nothing(extra, message, db, capsys):
    line = one_line(capsys, run_main([*RUN, *extra, "--db", str(db)]))
    assert message in line
    assert not db.exists()


@pytest.mark.parametrize(("args", "message"), [
    (RUN + ["--lim", "5"], "unrecognized arguments: --lim 5 (did you mean '--limit'"),
    (RUN + ["--limit", "abc"], "argument --limit: invalid float value: 'abc'; see 'harness run --help'"),
    (RUN + ["--format", "jsn"], "(did you mean 'json'?); see 'harness run --help'"),
    (["rn", "--model", "x"], "(did you mean 'run' or 'runs'?); see 'harness --help'"),
    (["sweep", "--models", "tiny-pythia"], "the following arguments are required: --tasks"),
])
def test_usage_errors_are_one_line_with_the_closest_flag(args, message, db, capsys):
    assert message in one_line(capsys, run_main([*args, "--db", str(db)]))
    assert not db.exists()


def test_a_duckdb_file_of_another_application_is_refused_and_left_alone(tmp_path, capsys):
    foreign = tmp_path / "theirs.duckdb"
    with duckdb.connect(str(foreign)) as conn:
        conn.execute("CREATE TABLE runs (x INTEGER)")
        conn.execute("INSERT INTO runs VALUES (42)")
    for command in (RUN, ["runs"], ["leaderboard", "llm-2023"]):
        line = one_line(capsys, run_main([*command, "--db", str(foreign)]))
        assert "is a DuckDB database of another application (tables runs" in line
    with duckdb.connect(str(foreign), read_only=True) as conn:
        tables = [r[0] for r in conn.execute("SELECT table_name FROM information_schema.tables").fetchall()]
        assert tables == ["runs"] and conn.execute("SELECT x FROM runs").fetchall() == [(42,)]


def test_an_empty_duckdb_database_is_adopted(tmp_path, capsys):
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    assert main(["runs", "--db", str(empty)]) == 0
    assert main(["tags", "--db", str(empty)]) == 0


@pytest.mark.parametrize("content", [b"", b"hello"])
def test_a_small_file_that_is_no_store_is_refused_soon(tmp_path, capsys, content):
    path = tmp_path / "tiny.duckdb"
    path.write_bytes(content)
    started = time.monotonic()
    line = one_line(capsys, run_main(["runs", "--db", str(path)]))
    assert "is not a DuckDB database" in line
    assert time.monotonic() - started < 20  # it waits for a writer only while the file grows (2 s), not 60 s


def test_output_paths_are_checked_before_writing(tmp_path, capsys):
    from harness.store.synthetic import SyntheticRun, write_runs

    db = tmp_path / "s.duckdb"
    (run_id,) = write_runs(Store(db), [SyntheticRun("tiny-pythia", "finance_headline", {"acc": [1.0, 0.0, 1.0, 1.0]})])
    folder = tmp_path / "folder"
    folder.mkdir()
    assert "--out" in one_line(capsys, run_main(["export", run_id, "--out", str(folder), "--db", str(db)]))
    assert "--out" in one_line(capsys, run_main(["export-baseline", run_id, "--out", str(folder), "--db", str(db)]))
    assert not list(folder.iterdir())  # no .partial left behind
    line = one_line(capsys, run_main(["gate", "--baseline", run_id, "--candidate", run_id, "--junit", str(folder),
                                      "--db", str(db)]))
    assert "--junit" in line and "is a folder" in line
    nested = tmp_path / "new" / "deeper" / "samples.jsonl"
    assert main(["export", run_id, "--out", str(nested), "--db", str(db)]) == 0
    assert len(nested.read_text().splitlines()) == 4


def test_broken_baselines_are_refused(tmp_path, capsys):
    from harness.store.synthetic import SyntheticRun, write_runs

    db = tmp_path / "s.duckdb"
    (run_id,) = write_runs(Store(db), [SyntheticRun("tiny-pythia", "finance_headline",
                                                    {"acc": [1.0, 0.0, 1.0, 1.0, 0.0, 1.0]})])
    good = tmp_path / "base.json"
    assert main(["export-baseline", run_id, "--out", str(good), "--db", str(db)]) == 0
    capsys.readouterr()
    content = json.loads(good.read_text())
    lacking = json.loads(json.dumps(content))
    for metric in lacking["runs"][0]["metrics"]:
        del metric["value"]
    (tmp_path / "lacking.json").write_text(json.dumps(lacking))
    line = one_line(capsys, run_main(["gate", "--baseline", str(tmp_path / "lacking.json"), "--candidate", run_id,
                                      "--db", str(db)]))
    assert "baseline file is incomplete" in line
    for kind, value in (("strings", "1.0"), ("lists", [1.0])):
        edited = json.loads(json.dumps(content))
        for sample in edited["runs"][0]["samples"]:
            sample["metrics"] = {name: value for name in sample["metrics"]}
        (tmp_path / f"{kind}.json").write_text(json.dumps(edited))
        line = one_line(capsys, run_main(["gate", "--baseline", str(tmp_path / f"{kind}.json"), "--candidate",
                                          run_id, "--db", str(db)]))
        assert "are not numbers" in line


def test_a_broken_checkpoint_is_named_and_leaves_no_run(tmp_path, tiny_pythia_path, capsys):
    db = tmp_path / "s.duckdb"
    corrupt = tmp_path / "corrupt"
    shutil.copytree(tiny_pythia_path, corrupt)
    (corrupt / "config.json").write_text("{not json")
    line = one_line(capsys, run_main(["run", "--model", str(corrupt), "--task", "finance_headline", "--db", str(db)]))
    assert "config.json is not valid JSON" in line
    truncated = tmp_path / "truncated"
    shutil.copytree(tiny_pythia_path, truncated)
    weights = truncated / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:1000])
    line = one_line(capsys, run_main(["run", "--model", str(truncated), "--task", "finance_headline", "--db", str(db)]))
    assert f"could not load the weights in {truncated} (model.safetensors)" in line
    assert not db.exists() or duckdb.connect(str(db), read_only=True).execute(
        "SELECT count(*) FROM runs").fetchone() == (0,)


def test_an_unreachable_server_or_cluster_is_one_line_at_once(db, capsys, monkeypatch):
    monkeypatch.setenv("HARNESS_CONNECT_TIMEOUT", "5")
    started = time.monotonic()
    line = one_line(capsys, run_main([*RUN, "--backend", "openai", "--base-url", "http://alice:s3cret@127.0.0.1:1/v1",
                                      "--db", str(db)]))
    assert "the server at 127.0.0.1:1 is unreachable" in line and "s3cret" not in line
    line = one_line(capsys, run_main(["sweep", "--models", "tiny-pythia", "--tasks", "finance_headline", "--limit",
                                      "2", "--executor", "ray", "--address", "127.0.0.1:1", "--db", str(db)]))
    assert "the Ray cluster at 127.0.0.1:1 is unreachable" in line
    assert time.monotonic() - started < 60
    assert not db.exists() or duckdb.connect(str(db), read_only=True).execute(
        "SELECT count(*) FROM runs").fetchone() == (0,)


def test_a_bad_connect_timeout_is_one_line(db, capsys, monkeypatch):
    monkeypatch.setenv("HARNESS_CONNECT_TIMEOUT", "soon")
    line = one_line(capsys, run_main([*RUN, "--backend", "openai", "--base-url", "http://127.0.0.1:1/v1",
                                      "--db", str(db)]))
    assert "HARNESS_CONNECT_TIMEOUT='soon' is not a number of seconds" in line
    assert not db.exists() or duckdb.connect(str(db), read_only=True).execute(
        "SELECT count(*) FROM runs").fetchone() == (0,)


def test_credentials_in_urls_never_reach_the_store_or_the_terminal():
    from harness.core.request import RunRequest

    secret = RunRequest.build("m", "t", base_url="http://alice:s3cret@host:8000/v1", backend="openai")
    plain = RunRequest.build("m", "t", base_url="http://bob:other@host:8000/v1", backend="openai")
    assert secret.request_hash(False) == plain.request_hash(False)  # who calls the server is no identity
    from harness.core.model_choice import resolve_for

    resolved = resolve_for("openai", "tiny-pythia", None, "http://alice:s3cret@host:8000/v1", fetch=False)
    assert resolved.fingerprint == "openai:http://***@host:8000/v1#tiny-pythia"


def test_the_migration_redacts_credentials_stored_by_earlier_versions(tmp_path):
    from harness.store import SCHEMA_VERSION
    from harness.store.schema import MIGRATIONS

    path = tmp_path / "old.duckdb"
    with duckdb.connect(str(path)) as conn:
        for step in MIGRATIONS[:5]:
            conn.execute(step)
        conn.execute("INSERT INTO meta VALUES ('schema_version', '5')")
        conn.execute("INSERT INTO runs (run_id, invocation_id, model, model_fingerprint, task, task_hash, status, "
                     "started_at, error, settings) VALUES ('r1', 'i', 'm', 'openai:http://alice:s3cret@h/v1#m', 't', "
                     "'x', 'failed', now(), 'ServerError: http://alice:s3cret@h/v1/completions answered 500', "
                     "'{\"teacher_base_url\": \"https://u:p@t/v1\"}')")
        _store_keyed_requests(conn, "r2", "openai:http://alice:s3cret@h/v1#m", keys=["ok", "ok", "unknown"])
    (run, server_run) = sorted(Store(path).list_runs(), key=lambda r: r["run_id"])
    assert run["model_fingerprint"] == server_run["model_fingerprint"] == "openai:http://***@h/v1#m"
    assert run["error"] == "ServerError: http://***@h/v1/completions answered 500"
    assert run["settings"] == {"teacher_base_url": "https://***@t/v1"}
    # the requests the server answered are found under the keys a run records now; a key that cannot be
    # reproduced is left as it was
    redacted = _namespace("openai:http://***@h/v1#m")
    expected = [cache_key(redacted, "loglikelihood", [f"ctx {doc_id}", " a"]) for doc_id in (0, 1)] + ["unknown"]
    with duckdb.connect(str(path), read_only=True) as conn:
        assert [k for (k,) in conn.execute("SELECT cache_key FROM requests ORDER BY doc_id").fetchall()] == expected
    with duckdb.connect(str(path), read_only=True) as conn:
        assert conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == (
            str(SCHEMA_VERSION),)


def _namespace(fingerprint: str) -> str:
    return cache_namespace(fingerprint, "openai", {"device": "remote", "dtype": "server", "max_length": 2048},
                           {"api": "completions"})


def _store_keyed_requests(conn, run_id: str, fingerprint: str, keys: list[str]) -> None:
    """A finished server run as version 5 stored it: its requests keyed under the credentialed fingerprint."""
    settings = {"backend": "openai", "device": "remote", "dtype": "server", "max_length": 2048,
                "model_args": {"api": "completions", "max_retries": 3}}
    conn.execute("INSERT INTO runs (run_id, invocation_id, model, model_fingerprint, task, task_hash, status, "
                 "started_at, settings) VALUES (?, 'i', 'm', ?, 't', 'x', 'finished', now(), ?)",
                 [run_id, fingerprint, json.dumps(settings)])
    for doc_id, key in enumerate(keys):
        args = [f"ctx {doc_id}", " a"]
        if key == "ok":
            key = cache_key(_namespace(fingerprint), "loglikelihood", args)
        conn.execute("INSERT INTO requests (run_id, doc_id, idx, repeat, request_type, arguments, response, cache_key) "
                     "VALUES (?, ?, 0, 0, 'loglikelihood', ?, '[-1.0, true]', ?)", [run_id, doc_id, json.dumps(args), key])


def test_a_full_disk_fails_the_run_in_one_line_and_resume_finishes_it(tmp_path, tiny_pythia_path):
    """The store may not grow past a file size limit (RLIMIT_FSIZE in the child, no root needed)."""
    import resource
    import signal
    import subprocess
    import sys

    from tests.helpers import REPO

    def small_files():
        resource.setrlimit(resource.RLIMIT_FSIZE, (900_000, 900_000))
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails instead of killing us

    db = tmp_path / "full.duckdb"
    common = ["run", "--model", "tiny-pythia", "--task", "finance", "--quiet", "--format", "json"]
    args = [*common, "--db", str(db)]
    proc = subprocess.run([sys.executable, "-m", "harness.cli", *args], preexec_fn=small_files, cwd=REPO,
                          capture_output=True, text=True, timeout=600)
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error: ")]
    assert proc.returncode == 1 and len(errors) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert "could not write to the store" in errors[0] and "--resume" in errors[0]
    runs = Store(db).list_runs()
    assert runs and {run["status"] for run in runs} == {"failed"}
    assert all("could not write to the store" in run["error"] for run in runs)
    resumed = subprocess.run([sys.executable, "-m", "harness.cli", *args, "--resume"], cwd=REPO,
                             capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    fresh = tmp_path / "fresh.duckdb"
    subprocess.run([sys.executable, "-m", "harness.cli", *common, "--db", str(fresh), "--no-cache"], cwd=REPO,
                   check=True, capture_output=True, timeout=600)
    for result in json.loads(resumed.stdout):
        ours = Store(db).sample_rows(result["run_id"])
        (other,) = [r for r in Store(fresh).list_runs() if r["task"] == result["task"]]
        theirs = Store(fresh).sample_rows(other["run_id"])
        assert [s["doc_id"] for s in ours] == [s["doc_id"] for s in theirs]  # every sample exactly once
        assert [s["prediction"] for s in ours] == [s["prediction"] for s in theirs]
