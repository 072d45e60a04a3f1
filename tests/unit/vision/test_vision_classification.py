"""Image classification: timm's top-k against an independent NumPy computation, label maps, and runs of the
tiny ConvNet and ViT twins end to end through the CLI into the store and the vision leaderboard."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from harness.errors import HarnessError
from harness.registry import get_model
from harness.vision.classification import METRICS, topk_correct
from harness.vision.datasets import ImageSet, faces, label_ids, shapes
from tests.helpers import cli_json, run_cli


@pytest.mark.parametrize("classes", [2, 3, 10, 1000])
def test_topk_matches_an_independent_numpy_ranking(classes):
    rng = np.random.default_rng(classes)
    logits = rng.normal(size=(64, classes)).astype(np.float32)
    targets = rng.integers(0, classes, 64)
    hits = topk_correct(torch.from_numpy(logits), torch.from_numpy(targets))
    order = np.argsort(-logits, axis=1, kind="stable")
    for k in (1, 5):
        expected = [t in row[:k] for row, t in zip(order, targets)]
        assert hits[k].tolist() == expected
    if classes <= 5:
        assert hits[5].all()  # k is capped at the number of classes, as in timm


@pytest.mark.parametrize("classes", [5, 10, 1000])
def test_topk_means_agree_with_torchmetrics_micro_accuracy(classes):
    """torchmetrics agrees where it applies (k at most the classes, micro average); the harness keeps timm's
    per-sample outcomes, which the gate's paired tests need (tests/unit/test_dependencies.py says why)."""
    from torchmetrics.classification import MulticlassAccuracy

    generator = torch.Generator().manual_seed(classes)
    logits, targets = torch.randn(256, classes, generator=generator), torch.randint(0, classes, (256,),
                                                                                  generator=generator)
    hits = topk_correct(logits, targets)
    for k in (1, 5):
        expected = MulticlassAccuracy(num_classes=classes, top_k=k, average="micro")(logits, targets)
        assert hits[k].float().mean().item() == pytest.approx(expected.item())


def test_label_maps_send_each_class_to_one_model_output():
    data = ImageSet("x", [], [], ["cat", "dog"], [])
    id2label = {0: "tabby", 1: "beagle", 2: "tench"}
    assert label_ids(data, id2label, None) == [0, 1]
    assert label_ids(data, id2label, {"cat": "tabby", "dog": 1}) == [0, 1]
    assert label_ids(ImageSet("x", [], [], ["tench", "beagle"], []), id2label, None) == [2, 1]
    for bad, message in (({"cat": "lion"}, "not a label"), ({"cat": 7}, "outside"), ({"cat": 1}, "same model output")):
        with pytest.raises(HarnessError, match=message):
            label_ids(data, id2label, bad)


def test_builtin_image_sets():
    data = shapes(count=30)
    assert len(data) == 30 and data.images[0].size == (32, 32) and set(data.labels) == {0, 1, 2}
    assert shapes(count=30).images[5].tobytes() == data.images[5].tobytes()  # seeded
    lfw = faces()
    assert len(lfw) == 200 and lfw.labels.count(1) == 100 and lfw.classes == ["non-face", "face"]


@pytest.fixture(scope="module")
def vision_store(tmp_path_factory):
    db = tmp_path_factory.mktemp("vision") / "store.duckdb"
    for model in ("tiny-vit", "tiny-convnext", "tiny-resnet"):
        proc = run_cli("run", "--model", model, "--task", "classification", "--limit", "40", "--db", str(db))
        assert proc.returncode == 0, proc.stderr
    return db


def test_each_model_gets_a_run_per_task_with_every_metric(vision_store):
    runs = cli_json("runs", "--format", "json", "--db", str(vision_store))
    assert len(runs) == 9 and all(r["status"] == "finished" and r["output_type"] == "classification" for r in runs)
    for run in runs:
        shown = cli_json("show", run["run_id"], "--format", "json", "--db", str(vision_store))
        metrics = {m["metric"]: m for m in shown["metrics"]}
        assert set(metrics) == set(METRICS)
        assert metrics["params"]["value"] == get_model(run["model"]).parameters
        assert metrics["gflops"]["value"] > 0 and metrics["images_per_s"]["value"] > 0
        rows = [json.loads(line) for line in run_cli("export", run["run_id"], "--db", str(vision_store))
                .stdout.splitlines()]
        assert len(rows) == 40
        assert np.mean([r["metrics"]["top1"] for r in rows]) == pytest.approx(metrics["top1"]["value"])
        assert all(r["metrics"]["top5"] >= r["metrics"]["top1"] for r in rows)


def test_vit_and_convnets_differ_in_compute(vision_store):
    runs = cli_json("runs", "--format", "json", "--db", str(vision_store))
    flops = {}
    for run in runs:
        if run["task"] == "classification_digits":
            metrics = cli_json("show", run["run_id"], "--format", "json", "--db", str(vision_store))["metrics"]
            flops[run["model"]] = next(m["value"] for m in metrics if m["metric"] == "gflops")
    assert len(set(flops.values())) == 3


def test_the_vision_leaderboard_plots_accuracy_against_compute(vision_store, tmp_path):
    proc = run_cli("leaderboard", "vision", "--out", str(tmp_path / "site"), "--format", "csv", "--db",
                   str(vision_store))
    assert proc.returncode == 0, proc.stderr
    models = [line.split(",")[1] for line in proc.stdout.splitlines()[1:]]
    assert sorted(models) == ["tiny-convnext", "tiny-resnet", "tiny-vit"]
    index = (tmp_path / "site" / "index.html").read_text()
    assert "Accuracy against compute (GFLOPs per image)" in index and index.count('class="point"') >= 9


def test_your_own_image_folder_with_a_label_map(tmp_path):
    root = tmp_path / "val"
    data = shapes(count=12)
    for image, label, ident in zip(data.images, data.labels, data.ids):
        folder = root / data.classes[label]
        folder.mkdir(parents=True, exist_ok=True)
        image.save(folder / f"{ident.split('/')[1]}.png")
    (root / "labels.json").write_text(json.dumps({"circle": 7, "square": 3, "triangle": 5}))
    db = tmp_path / "s.duckdb"
    (result,) = cli_json("run", "--model", "tiny-resnet", "--task", "classification_shapes", "--data", str(root),
                         "--format", "json", "--db", str(db))
    assert result["n_samples"] == 12
    run = cli_json("runs", "--format", "json", "--db", str(db))[0]
    assert run["settings"]["data"] == str(root)


def test_hugging_face_image_datasets(tmp_path):
    import datasets as hf_datasets

    data = shapes(count=9)
    features = hf_datasets.Features({"image": hf_datasets.Image(),
                                     "label": hf_datasets.ClassLabel(names=list(data.classes))})
    table = hf_datasets.Dataset.from_dict({"image": data.images, "label": data.labels}, features=features)
    (tmp_path / "shapes-hf").mkdir()
    table.to_parquet(str(tmp_path / "shapes-hf" / "validation.parquet"))
    db = tmp_path / "s.duckdb"
    (result,) = cli_json("run", "--model", "tiny-convnext", "--task", "classification_shapes", "--data",
                         f"hf:{tmp_path / 'shapes-hf'}", "--format", "json", "--db", str(db))
    assert result["n_samples"] == 9
    proc = run_cli("run", "--model", "tiny-convnext", "--task", "classification_shapes", "--data",
                   "hf:some-org/not-cached-here", "--db", str(db))
    assert proc.returncode == 2 and "could not load the dataset" in proc.stderr and proc.stderr.count("\n") == 1


def test_a_label_map_that_does_not_fit_the_model_is_refused_before_any_run(tmp_path):
    root = tmp_path / "val"
    data = shapes(count=3)
    for image, label in zip(data.images, data.labels):
        (root / data.classes[label]).mkdir(parents=True, exist_ok=True)
        image.save(root / data.classes[label] / "a.png")
    (root / "labels.json").write_text(json.dumps({"circle": "unicorn"}))
    db = tmp_path / "s.duckdb"
    proc = run_cli("run", "--model", "tiny-vit", "--task", "classification_shapes", "--data", str(root), "--db", str(db))
    assert proc.returncode == 2 and "'unicorn', which is not a label of this model" in proc.stderr
    assert cli_json("runs", "--format", "json", "--db", str(db)) == []


@pytest.mark.parametrize("args, message", [
    (["--model", "tiny-vit", "--task", "classification_digits", "--data", "/no/such/folder"], "not a folder"),
    (["--model", "tiny-pythia", "--task", "classification_digits"], "is a text model"),
    (["--model", "tiny-vit", "--task", "classification_digits,finance_headline"], "separate commands"),
    (["--model", "tiny-vit", "--task", "finance_headline"], "is a vision model"),
    (["--model", "tiny-vit", "--task", "classification_digits", "--prompt-strategy", "direct"], "only apply to text"),
])
def test_bad_vision_input_is_one_line_and_stores_nothing(tmp_path, args, message):
    db = tmp_path / "s.duckdb"
    proc = run_cli("run", *args, "--db", str(db))
    assert proc.returncode == 2 and message in proc.stderr and proc.stderr.count("\n") == 1, proc.stderr
    assert cli_json("runs", "--format", "json", "--db", str(db)) == []
