"""SAM throughput on the offline segmentation set, and mask AP time: the harness against pycocotools called
directly (as its documentation shows) on the same predictions, with the faster-coco-eval engine beside them.

    python benchmarks/vision_speed.py [--images 500] [--repeats 3]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import tempfile
from pathlib import Path

import numpy as np

from harness.metrics.masks import coco_mask_stats
from harness.vision.segmentation_data import shapes_set
from timing import best_of


def sam_throughput() -> None:
    """tiny-sam on ``segmentation_shapes`` (40 images, 60 objects), point prompts, on the CPU."""
    import torch

    from harness.models.tiny import ensure_tiny
    from harness.registry import get_model
    from harness.vision.segmentation import evaluate, load

    data = shapes_set()
    sam = load(str(ensure_tiny(get_model("tiny-sam"))), device="cpu", dtype=torch.float32)
    evaluate(sam, data.limited(2), "warm-up", device="cpu", dtype=torch.float32)
    outcome = evaluate(sam, data, "segmentation_shapes", device="cpu", dtype=torch.float32)
    images = len({o[0] for o in data.objects})
    print(f"tiny-sam, CPU, {images} images / {len(data.objects)} objects (point prompt, three masks + single mode): "
          f"{images / outcome.seconds:.1f} images/s, {len(data.objects) / outcome.seconds:.1f} prompts/s")


def _problem(count: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    data = shapes_set(count=count, seed=seed)
    truths = [{"id": n + 1, "image_id": o[0], "category_id": o[2], "mask": o[3]} for n, o in enumerate(data.objects)]
    predictions = [{"image_id": t["image_id"], "category_id": t["category_id"], "score": float(rng.random()),
                    "mask": t["mask"] ^ (rng.random(t["mask"].shape) < rng.uniform(0, 0.1))} for t in truths]
    predictions += [{"image_id": int(rng.integers(0, count)), "category_id": int(rng.integers(0, 3)),
                     "score": float(rng.random()) * 0.5, "mask": rng.random((96, 96)) < 0.2} for _ in range(count)]
    images = [{"id": i, "height": 96, "width": 96} for i in range(count)]
    return truths, predictions, images, data.categories


def direct_pycocotools(truths, predictions, images, categories, folder: Path) -> list[float]:
    """pycocotools by the book: annotations and results as JSON files, COCO(), loadRes(), COCOeval."""
    from pycocotools import mask as mask_utils
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    def rle(mask):
        encoded = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
        return {"size": encoded["size"], "counts": encoded["counts"].decode()}

    annotations = []
    for t in truths:
        encoded = mask_utils.encode(np.asfortranarray(t["mask"].astype(np.uint8)))
        annotations.append({"id": t["id"], "image_id": t["image_id"], "category_id": t["category_id"],
                            "segmentation": rle(t["mask"]), "area": float(mask_utils.area(encoded)), "iscrowd": 0,
                            "bbox": [float(v) for v in mask_utils.toBbox(encoded)]})
    (folder / "gt.json").write_text(json.dumps({"images": images, "annotations": annotations, "categories": [
        {"id": i, "name": n} for i, n in enumerate(categories)]}))
    (folder / "dt.json").write_text(json.dumps([{"image_id": p["image_id"], "category_id": p["category_id"],
                                                 "score": p["score"], "segmentation": rle(p["mask"])}
                                                for p in predictions]))
    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO(str(folder / "gt.json"))
        evaluator = COCOeval(coco, coco.loadRes(str(folder / "dt.json")), "segm")
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    return [float(v) for v in evaluator.stats]


def mask_ap(count: int, repeats: int) -> None:
    truths, predictions, images, categories = _problem(count)
    with tempfile.TemporaryDirectory() as tmp:
        direct_s, direct = best_of(lambda: direct_pycocotools(truths, predictions, images, categories, Path(tmp)),
                                 repeats)
    ours_s, ours = best_of(lambda: coco_mask_stats(truths, predictions, images, categories), repeats)
    fast_s, fast = best_of(lambda: coco_mask_stats(truths, predictions, images, categories, "faster-coco-eval"), repeats)
    assert list(ours.values()) == direct and fast == ours, "the engines disagree"
    print(f"mask AP over {count} images, {len(truths)} objects, {len(predictions)} predictions "
          f"(best of {repeats}; identical 12 stats, AP={ours['AP']:.4f}):")
    print(f"  pycocotools called directly (JSON files, COCO, loadRes, COCOeval): {direct_s:.3f} s   1.00x")
    print(f"  harness, pycocotools engine (in memory):                          {ours_s:.3f} s   "
          f"{direct_s / ours_s:.2f}x")
    print(f"  harness, --coco-eval faster-coco-eval:                             {fast_s:.3f} s   "
          f"{direct_s / fast_s:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    sam_throughput()
    mask_ap(args.images, args.repeats)


if __name__ == "__main__":
    main()
