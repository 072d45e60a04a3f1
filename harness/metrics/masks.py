"""Mask metrics: per-object IoU, COCO run-length encoding and COCO mask AP/AR through pycocotools.

pycocotools is fed as it needs: Fortran-ordered uint8 masks for ``mask.encode``, no ``bbox`` in mask results
(``loadRes`` would take the area from it), and no ``loadRes`` call on an empty result list (it crashes).
"""

from __future__ import annotations

from typing import Any

import numpy as np

COCO_STATS = ["AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100", "ARs", "ARm", "ARl"]


def iou(prediction: np.ndarray, truth: np.ndarray) -> float:
    """Intersection over union of two boolean masks (1.0 when both are empty)."""
    union = np.logical_or(prediction, truth).sum()
    return float(np.logical_and(prediction, truth).sum() / union) if union else 1.0


def encode(mask: np.ndarray) -> dict[str, Any]:
    """COCO RLE of a boolean mask, with ``counts`` as text (JSON-ready)."""
    from pycocotools import mask as mask_utils

    rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    return {"size": [int(v) for v in rle["size"]], "counts": rle["counts"].decode("ascii")}


def decode(rle: dict[str, Any]) -> np.ndarray:
    """A boolean mask back from :func:`encode`'s RLE."""
    from pycocotools import mask as mask_utils

    return mask_utils.decode({"size": rle["size"], "counts": rle["counts"].encode("ascii")}).astype(bool)


COCO_ENGINES = ("pycocotools", "faster-coco-eval")


def _engine(name: str) -> tuple[Any, Any]:
    """The COCO and COCOeval classes of an engine: pycocotools, or faster-coco-eval's drop-in."""
    if name == "pycocotools":
        from pycocotools.coco import COCO
        from pycocotools.cocoeval import COCOeval

        return COCO, COCOeval
    if name == "faster-coco-eval":
        try:
            from faster_coco_eval import COCO, COCOeval_faster
        except ImportError as exc:
            from harness.errors import HarnessError

            raise HarnessError("--coco-eval faster-coco-eval needs the package: pip install faster-coco-eval") from exc
        return COCO, COCOeval_faster
    raise ValueError(f"unknown COCO engine {name!r}; use one of {', '.join(COCO_ENGINES)}")


def coco_mask_stats(ground_truth: list[dict[str, Any]], predictions: list[dict[str, Any]],
                    images: list[dict[str, Any]], categories: list[str], engine: str = "pycocotools",
                    ) -> dict[str, float]:
    """COCOeval's 12 segm stats, by pycocotools or (``engine="faster-coco-eval"``) its faster drop-in.

    ``ground_truth``: ``{"id", "image_id", "category_id", "mask"}``; ``predictions``: ``{"image_id",
    "category_id", "mask", "score"}``; ``images``: ``{"id", "height", "width"}``; category ids index
    ``categories``. With no predictions every stat is 0.0 (nothing was found).
    """
    import contextlib
    import io

    from pycocotools import mask as mask_utils

    COCO, COCOeval = _engine(engine)

    if not predictions:
        return dict.fromkeys(COCO_STATS, 0.0)
    annotations = []
    for gt in ground_truth:
        rle = mask_utils.encode(np.asfortranarray(gt["mask"].astype(np.uint8)))
        annotations.append({"id": gt["id"], "image_id": gt["image_id"], "category_id": gt["category_id"],
                            "segmentation": rle, "area": float(mask_utils.area(rle)),
                            "bbox": [float(v) for v in mask_utils.toBbox(rle)], "iscrowd": 0})
    results = [{"image_id": p["image_id"], "category_id": p["category_id"], "score": float(p["score"]),
                "segmentation": mask_utils.encode(np.asfortranarray(p["mask"].astype(np.uint8)))}
               for p in predictions]
    with contextlib.redirect_stdout(io.StringIO()):  # pycocotools prints its progress
        coco_gt = COCO()
        coco_gt.dataset = {"images": images, "annotations": annotations,
                           "categories": [{"id": i, "name": name} for i, name in enumerate(categories)]}
        coco_gt.createIndex()
        evaluator = COCOeval(coco_gt, coco_gt.loadRes(results), iouType="segm")
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    return {name: float(value) for name, value in zip(COCO_STATS, evaluator.stats)}
