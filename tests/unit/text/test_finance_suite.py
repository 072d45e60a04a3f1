"""Tests for the `finance` task group, its generator and the public-format readers."""

from __future__ import annotations

import importlib
import importlib.util
import json
import math
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType

import pytest

from tests import helpers

ROOT = helpers.REPO
TASKS = ROOT / "tasks"
FIN = TASKS / "finance"
FIXTURES = helpers.FIXTURES / "finance"
JSONL = ["sentiment_test", "sentiment_train", "numeric_test", "numeric_train",
         "headline_test", "headline_train"]


def _module(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


utils = _module("finance_utils_under_test", FIN / "utils.py")
generate = _module("finance_generate_under_test", FIN / "generate.py")
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
ff = importlib.import_module("harness.text.finance_formats")


def _read(name: str) -> list[dict]:
    return utils.read_jsonl(FIN / f"{name}.jsonl")


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf_home"))
    for name in ("PHRASEBANK", "FIQA", "FINQA", "CONVFINQA"):
        monkeypatch.delenv(f"HARNESS_FINANCE_DATA_{name}", raising=False)


# --------------------------------------------------------------------------- generated data


def test_generator_reproduces_committed_files(tmp_path: Path) -> None:
    subprocess.run([sys.executable, str(FIN / "generate.py"), "--out-dir", str(tmp_path)],
                   check=True, capture_output=True)
    assert sorted(p.name for p in tmp_path.glob("*.jsonl")) == sorted(p.name for p in FIN.glob("*.jsonl"))
    for name in JSONL:
        assert (tmp_path / f"{name}.jsonl").read_bytes() == (FIN / f"{name}.jsonl").read_bytes(), name


def test_item_counts_and_balance() -> None:
    counts = {name: len(_read(name)) for name in JSONL}
    assert counts == {"sentiment_test": 180, "sentiment_train": 12, "numeric_test": 192,
                      "numeric_train": 10, "headline_test": 120, "headline_train": 10}
    assert Counter(d["label"] for d in _read("sentiment_test")) == {0: 60, 1: 60, 2: 60}
    assert Counter(d["label"] for d in _read("headline_test")) == {0: 60, 1: 60}
    heads = Counter((d["question_key"], d["label"]) for d in _read("headline_test"))
    assert len(heads) == 10 and set(heads.values()) == {12}
    qtypes = Counter(d["qtype"] for d in _read("numeric_test"))
    assert len(qtypes) >= 10 and max(qtypes.values()) <= 20


@pytest.mark.parametrize("task,text_key", [("sentiment", "sentence"), ("numeric", "question"),
                                           ("headline", "headline")])
def test_ids_unique_and_splits_disjoint(task: str, text_key: str) -> None:
    test, train = _read(f"{task}_test"), _read(f"{task}_train")
    ids = [d["id"] for d in test + train]
    assert len(ids) == len(set(ids))
    if task != "numeric":  # numeric questions repeat across different tables by design
        texts = [d[text_key] for d in test + train]
        assert len(texts) == len(set(texts))
    assert all(d["label_text"] == ["negative", "neutral", "positive"][d["label"]]
               for d in test + train if task == "sentiment")


def test_sentiment_is_varied() -> None:
    # With company names masked, sentence openings are spread over many templates.
    docs = _read("sentiment_test")
    def shape(sentence: str) -> str:
        for company in generate.COMPANIES:
            sentence = sentence.replace(company, "CO")
        return " ".join(sentence.split()[:3])
    shapes = Counter(shape(d["sentence"]) for d in docs)
    assert len(shapes) >= 25 and shapes.most_common(1)[0][1] <= len(docs) / 10
    assert len({c for d in docs for c in generate.COMPANIES if c in d["sentence"]}) >= 20


# An interpreter for the FinQA program language written independently of the generator.
def _run_program(program: str) -> float:
    steps = re.findall(r"(\w+)\(([^()]*)\)", program)
    assert steps, program
    results: list[float] = []

    def arg(token: str) -> float:
        token = token.strip()
        if token.startswith("#"):
            return results[int(token[1:])]
        if token.startswith("const_"):
            return -1.0 if token == "const_m1" else float(token[6:])
        return float(token)

    ops = {"add": lambda a, b: a + b, "subtract": lambda a, b: a - b,
           "multiply": lambda a, b: a * b, "divide": lambda a, b: a / b, "exp": lambda a, b: a ** b}
    for op, args in steps:
        a, b = (arg(t) for t in args.split(","))
        results.append(ops[op](a, b))
    return results[-1]


def _numbers_in(doc: dict) -> set[float]:
    text = " ".join([doc["pre_text"], doc["post_text"]] + [c for row in doc["table"] for c in row])
    return {float(m.replace(",", "")) for m in re.findall(r"\d[\d,]*(?:\.\d+)?", text)}


@pytest.mark.parametrize("split", ["numeric_test", "numeric_train"])
def test_numeric_answers_recomputed_from_program_and_doc(split: str) -> None:
    for doc in _read(split):
        assert math.isclose(_run_program(doc["program"]), doc["answer"], rel_tol=1e-6, abs_tol=1e-6), doc["id"]
        operands = re.findall(r"(?<![#\w])-?\d+(?:\.\d+)?", re.sub(r"const_\w+", "", doc["program"]))
        available = _numbers_in(doc)
        for op in operands:
            assert float(op) in available, (doc["id"], op)
        shown = utils.extract_number(doc["answer_str"])
        assert utils.is_correct(shown, doc["answer"]), doc["id"]
        if doc["answer_str"].endswith("%"):
            assert "percent" in doc["question"].lower() or "cagr" in doc["question"].lower()


def _cell(table: list[list[str]], label: str, year: str) -> float:
    col = next(i for i, h in enumerate(table[0]) if year in h)
    row = next(r for r in table if r[0] == label)
    return float(row[col].replace("$", "").replace(",", "").strip())


def test_numeric_answers_recomputed_from_table() -> None:
    checked = 0
    for doc in _read("numeric_test"):
        if doc["qtype"] not in ("pct_change", "difference"):
            continue
        q = doc["question"].lower()
        y1, y2 = re.findall(r"\b(?:19|20)\d\d\b", q)[:2]
        labels = [r[0] for r in doc["table"][1:] if r[0].lower() in q]
        label = max(labels, key=len)
        # the earlier year is the base, whatever order the question names them in
        a, b = sorted([(y1, _cell(doc["table"], label, y1)), (y2, _cell(doc["table"], label, y2))])
        expected = (b[1] - a[1]) / a[1] * 100 if doc["qtype"] == "pct_change" else b[1] - a[1]
        assert math.isclose(expected, doc["answer"], rel_tol=1e-5), doc["id"]
        checked += 1
    assert checked >= 30


# --------------------------------------------------------------------------- scoring


@pytest.mark.parametrize("text,expected", [
    ("$1,234.5", 1234.5),
    ("12.5%", 12.5),
    ("-3", -3.0),
    ("The answer is 42", 42.0),
    ("In 2019 sales rose, so the answer is 7.5%.", 7.5),
    ("Answer: 0.53", 0.53),
    ("answer = -12", -12.0),
    ("Revenue went from 100 to 120.", 100.0),
    ("-$45.20 million", -45.2),
    ("$-45.20", -45.2),
    ("\u22122.5", -2.5),
    ("2008-2009: 5", 2008.0),
    ("Q3 revenue was 10", 10.0),
    ("1,234,567 units", 1234567.0),
    (".5", 0.5),
    ("+3.25 points", 3.25),
    ("the answer is unclear, about 3", 3.0),
    ("no digits here", None),
    ("", None),
])
def test_extract_number(text: str, expected: float | None) -> None:
    assert utils.extract_number(text) == expected


@pytest.mark.parametrize("pred,gold,ok", [
    (100.9, 100.0, True), (101.0, 100.0, True), (101.1, 100.0, False), (98.9, 100.0, False),
    (-5.04, -5.0, True), (5.0, -5.0, False), (0.009, 0.0, True), (-0.01, 0.0, True),
    (0.02, 0.0, False), (None, 1.0, False), (12.35, 12.345678, True),
])
def test_tolerance(pred: float | None, gold: float, ok: bool) -> None:
    assert utils.is_correct(pred, gold) is ok
    assert generate.is_correct(pred, gold) is ok  # the generator uses the same rule


def test_process_results_only_exact_match() -> None:
    doc = {"answer": 24.000406}
    assert utils.numeric_process_results(doc, [" The answer is 24.00%"]) == {"exact_match": 1.0}
    assert utils.numeric_process_results(doc, [" 25"]) == {"exact_match": 0.0}
    assert utils.numeric_process_results(doc, [" I don't know"]) == {"exact_match": 0.0}


# --------------------------------------------------------------------------- public readers


def test_read_phrasebank() -> None:
    docs = ff.read_phrasebank(FIXTURES / "Sentences_AllAgree.txt")
    assert [d["label_text"] for d in docs] == ["positive", "neutral", "negative", "positive", "neutral", "negative"]
    assert [d["label"] for d in docs] == [2, 1, 0, 2, 1, 0]
    assert "Café" in docs[3]["sentence"]  # latin-1 decoded
    assert "volumes @ the port" in docs[5]["sentence"]
    assert set(docs[0]) == set(_read("sentiment_test")[0])


def test_read_phrasebank_malformed(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="sentence@label"):
        ff.read_phrasebank(FIXTURES / "phrasebank_malformed.txt")
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"Profit rose .@great\n")
    with pytest.raises(ValueError, match="unknown label"):
        ff.read_phrasebank(bad)


def test_read_fiqa_sentiment(tmp_path: Path) -> None:
    docs = ff.read_fiqa_sentiment(FIXTURES / "fiqa_task1_headlines.json")
    assert {d["id"]: d["label_text"] for d in docs} == {
        "fiqa-101": "positive", "fiqa-102": "negative", "fiqa-103": "neutral",
        "fiqa-104": "negative",  # mean of 0.4 and -0.7 = -0.15
        "fiqa-105": "negative",
    }
    assert set(docs[0]) == set(_read("sentiment_test")[0])
    assert [ff.fiqa_score_to_label(s) for s in (-0.11, -0.1, 0.0, 0.1, 0.11)] == [
        "negative", "neutral", "neutral", "neutral", "positive"]
    bad = tmp_path / "fiqa.json"
    bad.write_text(json.dumps({"1": {"sentence": "x", "info": [{"sentiment_score": "high"}]}}))
    with pytest.raises(ValueError, match="sentiment_score"):
        ff.read_fiqa_sentiment(bad)
    bad.write_text("[1, 2]")
    with pytest.raises(ValueError, match="JSON object"):
        ff.read_fiqa_sentiment(bad)


def test_read_finqa(tmp_path: Path) -> None:
    docs = ff.read_finqa(FIXTURES / "finqa_train.json")
    assert [d["id"] for d in docs] == ["NOVA/2019/page_12.pdf-1", "NOVA/2019/page_12.pdf-2",
                                       "NOVA/2019/page_13.pdf-1"]  # yes/no question skipped
    assert [d["answer"] for d in docs] == [25.0, 80.0, 6.0]  # 0.25 shown as "25%" -> percent
    assert docs[0]["answer_str"] == "25%"
    assert docs[0]["pre_text"].startswith("nova corp. designs") and "two most recent" in docs[0]["pre_text"]
    assert docs[0]["table"][1] == ["net revenue", "$ 1,250.0", "$ 1,000.0"]
    assert set(docs[0]) == set(_read("numeric_test")[0])
    with pytest.raises(ValueError, match="'qa'"):
        ff.read_finqa(FIXTURES / "finqa_malformed.json")
    bad = tmp_path / "finqa.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        ff.read_finqa(bad)


def test_read_convfinqa(tmp_path: Path) -> None:
    docs = ff.read_convfinqa(FIXTURES / "convfinqa_train.json")
    assert [d["answer"] for d in docs] == [0.25, 0.22]
    first = docs[0]
    assert first["question"].endswith("and the percentage change?")
    assert "Earlier question: what was net revenue in 2019? Answer: 1250.00" in first["question"]
    assert first["program"] == "subtract(1250, 1000), divide(#0, 1000)"
    assert docs[1]["question"] == "what was the ratio of operating income to net revenue in 2018?"
    assert set(first) == set(_read("numeric_test")[0])
    records = json.loads((FIXTURES / "convfinqa_train.json").read_text())
    records[0]["annotation"]["exe_ans_list"] = [1.0]
    bad = tmp_path / "conv.json"
    bad.write_text(json.dumps(records))
    with pytest.raises(ValueError, match="dialogue_break"):
        ff.read_convfinqa(bad)


# --------------------------------------------------------------------------- lm-eval loading


def _manager(**kwargs):
    from lm_eval.tasks import TaskManager

    return TaskManager(include_path=str(TASKS), include_defaults=False, **kwargs)


def test_group_loads_with_three_tasks() -> None:
    tm = _manager()
    loaded = tm.load(["finance"])
    assert loaded["group_map"] == {"finance": ["finance_sentiment", "finance_numeric", "finance_headline"]}
    assert set(loaded["tasks"]) == {"finance_sentiment", "finance_numeric", "finance_headline"}
    assert {"finance_phrasebank", "finance_fiqa_sentiment", "finance_finqa", "finance_convfinqa"} <= set(tm.all_subtasks)


@pytest.mark.parametrize("name,choices", [
    ("finance_sentiment", [" negative", " neutral", " positive"]),
    ("finance_headline", [" No", " Yes"]),
])
def test_multiple_choice_requests(name: str, choices: list[str]) -> None:
    task = _manager().load([name])["tasks"][name]
    assert len(task.test_docs()) >= 100 and len(task.fewshot_docs()) >= 10
    task.build_all_requests(limit=5, rank=0, world_size=1)
    assert len(task.instances) == 5 * len(choices)
    assert {i.request_type for i in task.instances} == {"loglikelihood"}
    for inst in task.instances:
        context, continuation = inst.arguments
        assert context.endswith("Answer:") and "Question:" in context
        assert continuation == choices[inst.idx]
    expected = {"acc", "acc_norm"} if name == "finance_sentiment" else {"acc"}
    assert set(task.aggregation()) == expected
    assert all(task.higher_is_better().values())


def test_numeric_requests_and_scoring() -> None:
    task = _manager().load(["finance_numeric"])["tasks"]["finance_numeric"]
    task.build_all_requests(limit=5, rank=0, world_size=1)
    assert len(task.instances) == 5
    for inst in task.instances:
        assert inst.request_type == "generate_until"
        context, gen_kwargs = inst.arguments
        assert context.endswith("\nAnswer:") and "| " in context
        assert gen_kwargs["until"] == ["\n\n", "Question:"]
        assert gen_kwargs["max_gen_toks"] == 32 and gen_kwargs["do_sample"] is False
    doc = task.instances[0].doc
    assert task.process_results(doc, [f" The answer is {doc['answer_str']}"]) == {"exact_match": 1.0}
    assert task.process_results(doc, [" -999999"]) == {"exact_match": 0.0}
    assert set(task.aggregation()) == {"exact_match"}


PUBLIC = [
    ("finance_phrasebank", "PHRASEBANK", "Sentences_AllAgree.txt", 6, "loglikelihood"),
    ("finance_fiqa_sentiment", "FIQA", "fiqa_task1_headlines.json", 5, "loglikelihood"),
    ("finance_finqa", "FINQA", "finqa_train.json", 3, "generate_until"),
    ("finance_convfinqa", "CONVFINQA", "convfinqa_train.json", 2, "generate_until"),
]


@pytest.mark.parametrize("name,env,fixture,n_docs,request_type", PUBLIC)
def test_public_task_via_metadata(name: str, env: str, fixture: str, n_docs: int, request_type: str) -> None:
    task = _manager(metadata={"data_path": str(FIXTURES / fixture)}).load([name])["tasks"][name]
    assert len(task.test_docs()) == n_docs
    assert len(task.fewshot_docs()) >= 10  # the project's own train split
    task.build_all_requests(limit=5, rank=0, world_size=1)
    assert {i.request_type for i in task.instances} == {request_type}
    assert all(i.arguments[0].endswith("Answer:") for i in task.instances)


@pytest.mark.parametrize("name,env,fixture,n_docs,request_type", PUBLIC)
def test_public_task_via_environment(monkeypatch: pytest.MonkeyPatch, name: str, env: str,
                                     fixture: str, n_docs: int, request_type: str) -> None:
    monkeypatch.setenv(f"HARNESS_FINANCE_DATA_{env}", str(FIXTURES / fixture))
    task = _manager().load([name])["tasks"][name]
    assert len(task.test_docs()) == n_docs


def test_public_task_per_dataset_metadata_key() -> None:
    task = _manager(metadata={"finqa_data_path": str(FIXTURES / "finqa_train.json"),
                              "data_path": str(FIXTURES / "missing.json")}).load(["finance_finqa"])
    assert len(task["tasks"]["finance_finqa"].test_docs()) == 3


def test_public_task_without_data_path() -> None:
    with pytest.raises(FileNotFoundError) as err:
        _manager().load(["finance_convfinqa"])
    assert "data_path" in str(err.value) and "HARNESS_FINANCE_DATA_CONVFINQA" in str(err.value)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        _manager(metadata={"data_path": str(FIXTURES / "missing.json")}).load(["finance_finqa"])
