"""Promptable segmentation: IoU against NumPy and torchmetrics, COCO mask AP against pycocotools called
directly, prompts against their definitions, and tiny-sam end to end through the CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from harness.metrics.masks import COCO_STATS, coco_mask_stats, decode, encode, iou
from harness.vision.prompts import box_prompt, next_click, point_prompt
from harness.vision.segmentation_data import shapes_set
from tests.helpers import cli_json, run_cli


def _random_masks(rng, count, shape=(40, 50)):
    return [rng.random(shape) < rng.uniform(0.05, 0.6) for _ in range(count)]


def test_iou_agrees_with_numpy_and_torchmetrics():
    from torchmetrics.classification import BinaryJaccardIndex

    rng = np.random.default_rng(0)
    for pred, truth in zip(_random_masks(rng, 20), _random_masks(rng, 20)):
        expected = (pred & truth).sum() / (pred | truth).sum()
        assert iou(pred, truth) == pytest.approx(expected)
        metric = BinaryJaccardIndex()
        assert iou(pred, truth) == pytest.approx(float(metric(torch.from_numpy(pred).int(), torch.from_numpy(truth).int())))
    empty = np.zeros((4, 4), bool)
    assert iou(empty, empty) == 1.0 and iou(empty, ~empty) == 0.0


def test_rle_round_trips():
    mask = np.random.default_rng(1).random((33, 47)) < 0.3
    rle = encode(mask)
    assert isinstance(rle["counts"], str) and (decode(rle) == mask).all()


def _direct_cocoeval(tmp_path, truths, predictions, images, categories):
    """pycocotools exactly as its documentation shows: files on disk, COCO(), loadRes(), COCOeval."""
    from pycocotools import mask as mask_utils
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    def rle(mask):
        encoded = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
        return {"size": encoded["size"], "counts": encoded["counts"].decode()}

    gt = {"images": images, "categories": [{"id": i, "name": n} for i, n in enumerate(categories)],
          "annotations": [{"id": t["id"], "image_id": t["image_id"], "category_id": t["category_id"],
                           "segmentation": rle(t["mask"]), "area": float(t["mask"].sum()), "iscrowd": 0,
                           "bbox": list(mask_utils.toBbox(mask_utils.encode(np.asfortranarray(
                               t["mask"].astype(np.uint8)))))} for t in truths]}
    (tmp_path / "gt.json").write_text(json.dumps(gt, default=float))
    (tmp_path / "dt.json").write_text(json.dumps([{"image_id": p["image_id"], "category_id": p["category_id"],
                                                   "score": p["score"], "segmentation": rle(p["mask"])}
                                                  for p in predictions]))
    coco = COCO(str(tmp_path / "gt.json"))
    evaluator = COCOeval(coco, coco.loadRes(str(tmp_path / "dt.json")), "segm")
    evaluator.evaluate()
    evaluator.accumulate()
    evaluator.summarize()
    return list(evaluator.stats)


def test_mask_ap_is_cocoevals(tmp_path):
    rng = np.random.default_rng(2)
    data = shapes_set(count=12, size=96, seed=3)
    truths = [{"id": n + 1, "image_id": o[0], "category_id": o[2], "mask": o[3]} for n, o in enumerate(data.objects)]
    predictions = []
    for truth in truths:
        noisy = truth["mask"] ^ (rng.random(truth["mask"].shape) < rng.uniform(0.0, 0.08))
        predictions.append({"image_id": truth["image_id"], "category_id": truth["category_id"], "mask": noisy,
                            "score": float(rng.uniform(0.1, 1.0))})
    predictions.append({"image_id": 0, "category_id": 1, "mask": np.ones((96, 96), bool), "score": 0.05})  # a false one
    images = [{"id": i, "height": 96, "width": 96} for i in range(len(data.images))]
    ours = coco_mask_stats(truths, predictions, images, data.categories)
    direct = _direct_cocoeval(tmp_path, truths, predictions, images, data.categories)
    assert list(ours) == COCO_STATS
    assert list(ours.values()) == pytest.approx(direct, abs=1e-12)
    assert 0 < ours["AP"] < 1


def test_faster_coco_eval_gives_identical_stats():
    rng = np.random.default_rng(4)
    data = shapes_set(count=30, seed=5)
    truths = [{"id": n + 1, "image_id": o[0], "category_id": o[2], "mask": o[3]} for n, o in enumerate(data.objects)]
    predictions = [{"image_id": t["image_id"], "category_id": int(rng.integers(0, 3)) if i % 7 == 0 else t["category_id"],
                    "mask": t["mask"] ^ (rng.random(t["mask"].shape) < 0.05), "score": float(rng.random())}
                   for i, t in enumerate(truths)]
    images = [{"id": i, "height": 96, "width": 96} for i in range(30)]
    reference = coco_mask_stats(truths, predictions, images, data.categories, "pycocotools")
    assert coco_mask_stats(truths, predictions, images, data.categories, "faster-coco-eval") == reference


def test_no_predictions_give_zeros_where_loadres_would_crash():
    from pycocotools.coco import COCO

    data = shapes_set(count=2)
    truths = [{"id": n + 1, "image_id": o[0], "category_id": o[2], "mask": o[3]} for n, o in enumerate(data.objects)]
    assert set(coco_mask_stats(truths, [], [{"id": 0, "height": 96, "width": 96}], data.categories).values()) == {0.0}
    with pytest.raises(Exception):
        COCO().loadRes([])


def test_point_prompt_is_the_deepest_pixel():
    mask = np.zeros((30, 40), bool)
    mask[5:25, 3:15] = True   # a 20 x 12 rectangle: deepest along its middle
    mask[10:12, 15:38] = True  # a thin arm that must not win
    x, y = point_prompt(mask)
    ys, xs = np.nonzero(~np.pad(mask, 1))
    depth = np.min(np.hypot(xs - (x + 1), ys - (y + 1)))  # brute force distance to the nearest outside pixel
    best = max(np.min(np.hypot(xs - (cx + 1), ys - (cy + 1))) for cy, cx in zip(*np.nonzero(mask)))
    assert mask[y, x] and depth == pytest.approx(best)


def test_box_prompt_is_tight_and_jitter_is_seeded_and_bounded():
    mask = np.zeros((50, 60), bool)
    mask[10:20, 30:45] = True
    assert box_prompt(mask) == (30.0, 10.0, 44.0, 19.0)
    a = box_prompt(mask, 0.1, np.random.default_rng(5))
    assert a == box_prompt(mask, 0.1, np.random.default_rng(5)) and a != (30.0, 10.0, 44.0, 19.0)
    assert abs(a[0] - 30) <= 1.5 and abs(a[3] - 19) <= 1.0


def test_the_clicker_picks_the_largest_error_region():
    truth = np.zeros((40, 40), bool)
    truth[5:35, 5:35] = True
    missed = truth.copy()
    missed[5:35, 20:35] = False  # the prediction misses a 30 x 15 block
    x, y, label = next_click(missed, truth)
    assert label == 1 and truth[y, x] and not missed[y, x] and 20 <= x < 35
    spilled = truth.copy()
    spilled[0:5, :] = True  # a thin spill, and a big one
    spilled[36:40, 0:40] = True
    spilled[5:35, 35:40] = True
    x, y, label = next_click(spilled, truth)
    assert label == 0 and spilled[y, x] and not truth[y, x]
    assert next_click(truth, truth) is None


@pytest.fixture(scope="module")
def sam_store(tmp_path_factory):
    db = tmp_path_factory.mktemp("sam") / "store.duckdb"
    proc = run_cli("run", "--model", "tiny-sam", "--task", "segmentation", "--clicks", "3", "--limit", "6",
                   "--db", str(db))
    assert proc.returncode == 0, proc.stderr
    return db


def test_sam_runs_store_every_metric(sam_store):
    runs = cli_json("runs", "--format", "json", "--db", str(sam_store))
    assert {r["task"] for r in runs} == {"segmentation_shapes", "segmentation_skimage"}
    for run in runs:
        assert run["settings"]["prompt"] == "point" and run["settings"]["clicks"] == 3
        metrics = {m["metric"] for m in cli_json("show", run["run_id"], "--format", "json", "--db",
                                                 str(sam_store))["metrics"]}
        assert {"miou_default", "miou_oracle", "miou_single", "miou_click_1", "miou_click_2", "miou_click_3",
                "images_per_s", *COCO_STATS} == metrics


def test_stored_samples_can_be_rescored_without_the_model(sam_store):
    run = next(r for r in cli_json("runs", "--format", "json", "--db", str(sam_store))
               if r["task"] == "segmentation_shapes")
    rows = [json.loads(line) for line in run_cli("export", run["run_id"], "--db", str(sam_store)).stdout.splitlines()]
    data = shapes_set().limited(6)
    assert len(rows) == len(data.objects)
    for row in rows:
        index, object_id, category, truth = data.objects[row["doc_id"]]
        assert row["input"] == f"shapes/{index}#{object_id}" and row["target"] == data.categories[category]
        rescored = iou(decode(row["prediction"]), truth)
        assert rescored == pytest.approx(row["metrics"]["miou_default"])
        assert row["metrics"]["miou_oracle"] >= row["metrics"]["miou_default"]
        assert len(row["doc"]["ious"]) == len(row["doc"]["predicted_ious"]) == 3
        assert row["doc"]["ious"][row["doc"]["chosen"]] == pytest.approx(rescored)
        assert row["doc"]["prompt"]["labels"] == [1] and truth[row["doc"]["prompt"]["points"][0][1],
                                                                row["doc"]["prompt"]["points"][0][0]]


def test_box_prompts_and_your_own_coco_annotations(tmp_path):
    from pycocotools import mask as mask_utils

    data = shapes_set(count=4, seed=9)
    folder = tmp_path / "images"
    folder.mkdir()
    annotations = []
    for n, (index, _, category, mask) in enumerate(data.objects):
        encoded = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
        annotations.append({"id": n + 1, "image_id": index + 1, "category_id": category + 1, "iscrowd": 0,
                            "segmentation": {"size": encoded["size"], "counts": encoded["counts"].decode()},
                            "area": float(mask.sum()), "bbox": [float(v) for v in mask_utils.toBbox(encoded)]})
    for index, image in enumerate(data.images):
        image.save(folder / f"{index + 1:012d}.jpg")
    instances = {"images": [{"id": i + 1, "file_name": f"{i + 1:012d}.jpg", "height": 96, "width": 96}
                            for i in range(len(data.images))],
                 "categories": [{"id": i + 1, "name": n} for i, n in enumerate(data.categories)],
                 "annotations": annotations}
    (tmp_path / "instances.json").write_text(json.dumps(instances))
    db = tmp_path / "s.duckdb"
    (result,) = cli_json("run", "--model", "tiny-sam", "--task", "segmentation_shapes", "--data",
                         str(tmp_path / "instances.json"), "--images", str(folder), "--prompt", "box",
                         "--format", "json", "--db", str(db))
    assert result["n_samples"] == len(data.objects)
    proc = run_cli("run", "--model", "tiny-sam", "--task", "segmentation_shapes", "--data",
                   str(tmp_path / "instances.json"), "--db", str(db))
    assert proc.returncode == 2 and "needs --images DIR" in proc.stderr
    proc = run_cli("run", "--model", "tiny-sam", "--task", "segmentation_shapes", "--prompt", "box", "--clicks", "2",
                   "--db", str(db))
    assert proc.returncode == 2 and "refines point prompts" in proc.stderr
