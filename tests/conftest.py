"""Shared fixtures: an offline, sandboxed environment, a store path and tiny models. Helper functions (the CLI
runner, the lm-eval comparisons) live in tests/helpers.py."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import harness.api
from harness.resources import tasks_dir
from tests.helpers import LIMIT


def pytest_configure(config: pytest.Config) -> None:
    """Nothing reaches for the network or writes to the home folder; subprocesses inherit this."""
    import tempfile

    root = Path(tempfile.mkdtemp(prefix="harness-tests-"))
    os.environ.update({
        "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
        "HF_HOME": str(root / "hf"), "HARNESS_CACHE": str(root / "cache"),
        "HARNESS_DB": str(root / "default.duckdb"), "NO_COLOR": "1", "TOKENIZERS_PARALLELISM": "false",
        "VLLM_TARGET_DEVICE": "cpu",
    })


# With pytest-xdist (``-n 2 --dist loadgroup``) each module here runs whole on one worker: the vLLM ones share one
# warm engine and no two engines start at once; the load and fault drills do not overlap each other.
_ONE_WORKER = {"test_vllm_backend.py": "vllm", "test_adapters.py": "vllm", "test_hardening.py": "vllm",
               "test_registry.py": "vllm", "test_faults.py": "drills", "test_concurrency.py": "drills"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not config.pluginmanager.hasplugin("xdist"):
        return
    for item in items:
        if item.path.name in _ONE_WORKER:
            item.add_marker(pytest.mark.xdist_group(_ONE_WORKER[item.path.name]))


@pytest.fixture(scope="session", autouse=True)
def _release_warm_engines():
    """Stop the warm vLLM engine before the interpreter (and pytest's output capture) goes away."""
    yield
    harness.api.release_engines()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "store.duckdb"


@pytest.fixture(scope="session")
def tiny_pythia_path() -> Path:
    from harness.models.tiny import ensure_tiny
    from harness.registry import get_model

    return ensure_tiny(get_model("tiny-pythia"))


ROLLING_YAML = """task: rolling_text
dataset_path: json
dataset_kwargs:
  data_files:
    test: {data}
test_split: test
output_type: loglikelihood_rolling
doc_to_text: ""
doc_to_target: "{{{{text}}}}"
metric_list:
  - metric: word_perplexity
  - metric: byte_perplexity
  - metric: bits_per_byte
metadata:
  version: 1.0
"""
CHOICES_YAML = """task: long_choices
dataset_path: json
dataset_kwargs:
  data_files:
    test: {data}
test_split: test
output_type: multiple_choice
doc_to_text: "{{{{question}}}}\\nAnswer:"
doc_to_target: gold
doc_to_choice: "{{{{choices}}}}"
metric_list:
  - metric: acc
  - metric: acc_norm
metadata:
  version: 1.0
"""


@pytest.fixture(scope="session")
def extra_tasks(tmp_path_factory):
    """A perplexity task and a multiple-choice task whose choices are many tokens long."""
    folder = tmp_path_factory.mktemp("extra")
    lines = [json.loads(line) for line in (tasks_dir() / "finance" / "numeric_test.jsonl").read_text().splitlines()]
    texts = [{"text": f"{d['pre_text']} {d['post_text']} {d['question']} {d['answer_str']}"} for d in lines[:6]]
    (folder / "rolling.jsonl").write_text("".join(json.dumps(t) + "\n" for t in texts))
    (folder / "rolling.yaml").write_text(ROLLING_YAML.format(data=folder / "rolling.jsonl"))
    docs = [{"question": d["question"], "gold": i % 4,
             "choices": [f"the figure is {d['answer_str']} for {y}" if j == i % 4 else
                         f"it would be about {j * 7 + i} percent of revenue in {y}" for j in range(4)]}
            for i, (d, y) in enumerate(zip(lines[:LIMIT], range(2000, 2000 + LIMIT)))]
    (folder / "choices.jsonl").write_text("".join(json.dumps(d) + "\n" for d in docs))
    (folder / "choices.yaml").write_text(CHOICES_YAML.format(data=folder / "choices.jsonl"))
    return folder
