"""The factuality group: hand-written and generated data, scoring against the reference definitions, and the
student/teacher imitation gap end to end."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from harness.metrics.similarity import EMBEDDING, ROUGE_L, available_method, similarity
from harness.resources import tasks_dir
from tests.helpers import cli_json, run_cli, task_module

FOLDER = tasks_dir() / "factuality"


def _module(name: str):
    return task_module("factuality", name)


utils = _module("utils")


def test_misconception_items_are_well_formed():
    docs = utils.read_misconceptions()
    assert len(docs) >= 100
    assert len({d["question"] for d in docs}) == len(docs)
    for doc in docs:
        true, false = doc["choices"][:doc["n_true"]], doc["choices"][doc["n_true"]:]
        assert true and false, doc["question"]
        assert len(set(map(utils.normalize, doc["choices"]))) == len(doc["choices"]), doc["question"]


def test_closed_book_items_are_unique_with_answers_and_reproducible(tmp_path):
    counts = _module("generate").generate(tmp_path)
    for path in tmp_path.iterdir():
        assert path.read_bytes() == (FOLDER / path.name).read_bytes(), path.name
    test = [json.loads(line) for line in (FOLDER / "closed_book_test.jsonl").read_text().splitlines()]
    shots = [json.loads(line) for line in (FOLDER / "closed_book_fewshot.jsonl").read_text().splitlines()]
    assert counts["closed_book_test"] == len(test) >= 200
    questions = [d["question"] for d in test + shots]
    assert len(set(questions)) == len(questions)
    assert all(d["answers"] and all(utils.normalize(a) for a in d["answers"]) for d in test + shots)


def test_mc1_and_mc2_are_truthfulqas():
    """Against lm-eval's TruthfulQA scoring: MC1 over the best answer and the false ones, MC2 as mass."""
    from lm_eval.tasks.truthfulqa.utils import process_results_mc2

    rng = np.random.default_rng(0)
    for n_true, n_false in [(1, 3), (2, 2), (3, 4)]:
        lls = list(rng.normal(-20, 5, n_true + n_false))
        results = [(ll, False) for ll in lls]
        ours = utils.misconception_process_results({"n_true": n_true}, results)
        labels = [1] * n_true + [0] * n_false
        assert ours["mc2"] == pytest.approx(process_results_mc2({"mc2_targets": {"labels": labels}}, results)["acc"])
        mc1_choices = [lls[0], *lls[n_true:]]  # truthfulqa_mc1: the best answer is choice 0
        assert ours["mc1"] == float(int(np.argmax(mc1_choices)) == 0)


@pytest.mark.parametrize("prediction, reference", [
    ("The capital is Paris.", "Paris"), ("Washington, D.C.", "Washington DC"), ("an apple a day", "apple"),
    ("George Orwell wrote it", "Orwell"), ("", "x"), ("no overlap here", "Paris"),
])
def test_normalisation_and_f1_are_squads(prediction, reference):
    from lm_eval.tasks.qasper.metrics import f1_abstractive, normalize_answer  # SQuAD v1.1's official code

    assert utils.normalize(prediction) == normalize_answer(prediction)
    if prediction:
        assert utils.token_f1(prediction, reference) == pytest.approx(f1_abstractive([prediction], [reference]))


def test_accents_fold_and_aliases_count():
    doc = {"answers": ["Bogotá", "Bogota"]}
    assert utils.closed_book_process_results(doc, ["bogota\nmore text"])["exact_match"] == 1.0
    assert utils.closed_book_process_results(doc, ["It is Bogotá."])["exact_match"] == 0.0
    assert utils.contains_answer("It is Bogotá, of course.", doc["answers"])
    assert not utils.contains_answer("Bogotano", doc["answers"])


def test_style_similarity_methods():
    assert available_method() == EMBEDDING  # the factuality extra is installed here
    close = similarity("The capital of France is Paris.", "Paris is the capital of France.", EMBEDDING)
    far = similarity("The capital of France is Paris.", "Stock markets fell sharply today.", EMBEDDING)
    assert 0 <= far < 0.5 < close <= 1.0
    assert similarity("the cat sat", "the cat sat", ROUGE_L) == 1.0
    with pytest.raises(ValueError):
        similarity("a", "b", "bleu")


@pytest.fixture(scope="module")
def teacher_store(tmp_path_factory):
    db = tmp_path_factory.mktemp("factuality") / "store.duckdb"
    proc = run_cli("run", "--model", "tiny-orca-2", "--teacher", "tiny-llama-2-chat", "--task", "factuality",
                   "--limit", "4", "--db", str(db))
    assert proc.returncode == 0, proc.stderr
    return db


def test_the_teacher_answers_first_as_a_run_of_its_own(teacher_store):
    runs = cli_json("runs", "--format", "json", "--db", str(teacher_store))
    by = {(r["model"], r["task"]): r for r in runs}
    assert set(by) == {("tiny-llama-2-chat", "factuality_imitation_gap"), ("tiny-orca-2", "factuality_misconceptions"),
                       ("tiny-orca-2", "factuality_closed_book"), ("tiny-orca-2", "factuality_imitation_gap")}
    teacher = by[("tiny-llama-2-chat", "factuality_imitation_gap")]
    student = by[("tiny-orca-2", "factuality_imitation_gap")]
    settings = student["settings"]
    assert (settings["teacher"], settings["teacher_run"], settings["style_similarity"]) == \
        ("tiny-llama-2-chat", teacher["run_id"], EMBEDDING)
    shown = cli_json("show", teacher["run_id"], "--format", "json", "--db", str(teacher_store))
    assert [m["metric"] for m in shown["metrics"]] == ["factual_score"]  # no teacher of its own
    metrics = {m["metric"]: m for m in cli_json("show", student["run_id"], "--format", "json", "--db",
                                                 str(teacher_store))["metrics"]}
    assert set(metrics) == {"style_score", "factual_score", "imitation_gap"}
    assert metrics["imitation_gap"]["value"] == pytest.approx(metrics["style_score"]["value"]
                                                              - metrics["factual_score"]["value"])
    assert metrics["imitation_gap"]["higher_is_better"] is False
    rows = [json.loads(line) for line in run_cli("export", student["run_id"], "--db", str(teacher_store)).stdout
            .splitlines()]
    assert all(math.isclose(r["metrics"]["imitation_gap"], r["metrics"]["style_score"] - r["metrics"]["factual_score"])
               for r in rows)


def test_a_second_student_reuses_the_teacher_run(teacher_store):
    proc = run_cli("run", "--model", "tiny-vicuna", "--teacher", "tiny-llama-2-chat", "--task",
                   "factuality_imitation_gap", "--limit", "4", "--db", str(teacher_store))
    assert proc.returncode == 0, proc.stderr
    assert "tiny-llama-2-chat on factuality_imitation_gap already finished with these settings; reused" in proc.stderr
    teachers = [r for r in cli_json("runs", "--format", "json", "--db", str(teacher_store))
                if r["model"] == "tiny-llama-2-chat"]
    assert len(teachers) == 1


@pytest.mark.parametrize("args, message", [
    (["--task", "factuality_imitation_gap"], "pass --teacher MODEL"),
    (["--task", "factuality_closed_book", "--teacher", "tiny-llama-2-chat"], "--teacher only applies to"),
])
def test_the_teacher_is_required_exactly_where_it_is_used(tmp_path, args, message):
    db = tmp_path / "s.duckdb"
    proc = run_cli("run", "--model", "tiny-orca-2", "--limit", "2", "--db", str(db), *args)
    assert proc.returncode == 2 and message in proc.stderr and proc.stderr.count("\n") == 1
    assert cli_json("runs", "--format", "json", "--db", str(db)) == []
