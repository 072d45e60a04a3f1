"""Promptable segmentation with Segment Anything (transformers' ``SamModel``), scored per object.

Per image the encoder runs once; every object of the image is then prompted from its ground-truth mask (one
point at the mask's deepest pixel, or its tight box). Per object: the IoU of each of SAM's three masks, which
one SAM ranks best (``miou_default``), the best against the truth (``miou_oracle``), single-output mode
(``miou_single``), and with ``clicks`` > 1 the IoU after each RITM click (``miou_click_K``; later clicks use
single-output mode with every click so far). The default masks, scored by SAM's predicted IoU, also go to
COCOeval for mask AP/AR.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from harness.metrics.masks import COCO_STATS, coco_mask_stats, encode, iou
from harness.records import Outcome
from harness.vision.prompts import box_prompt, next_click, point_prompt
from harness.vision.segmentation_data import SegmentationSet

BASE_METRICS = ["miou_default", "miou_oracle", "miou_single", *COCO_STATS, "images_per_s"]


class Sam:
    """A SAM model and its processor; masks come back at the image's own size."""

    def __init__(self, path: str, device: str, dtype: Any) -> None:
        from transformers import SamModel, SamProcessor
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        hf_logging.set_verbosity_error()
        self.processor = SamProcessor.from_pretrained(path)
        self.model = SamModel.from_pretrained(path, dtype=dtype).to(device).eval()
        self.device, self.dtype = device, dtype

    def embed(self, image: Any) -> tuple[Any, dict[str, Any]]:
        inputs = self.processor(images=image, return_tensors="pt")
        return self.model.get_image_embeddings(inputs["pixel_values"].to(self.device, self.dtype)), inputs

    def predict(self, image: Any, embedding: Any, multimask: bool, points: list | None = None,
                labels: list | None = None, boxes: list | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Masks (objects × masks × H × W, bool) and SAM's predicted IoUs (objects × masks)."""
        kwargs: dict[str, Any] = {"images": image, "return_tensors": "pt"}
        if boxes is not None:
            kwargs["input_boxes"] = [boxes]
        else:
            kwargs["input_points"], kwargs["input_labels"] = [points], [labels]
        inputs = self.processor(**kwargs)
        prompt = {k: inputs[k].to(self.device) for k in ("input_points", "input_labels", "input_boxes") if k in inputs}
        if "input_points" in prompt:
            prompt["input_points"] = prompt["input_points"].to(self.dtype)
        if "input_boxes" in prompt:
            prompt["input_boxes"] = prompt["input_boxes"].to(self.dtype)
        out = self.model(image_embeddings=embedding, multimask_output=multimask, **prompt)
        masks = self.processor.image_processor.post_process_masks(
            out.pred_masks.float().cpu(), inputs["original_sizes"], inputs["reshaped_input_sizes"])[0]
        return masks.numpy().astype(bool), out.iou_scores[0].float().cpu().numpy()


def _mean(task: str, metric: str, values: list[float], higher: bool = True) -> dict[str, Any]:
    n = len(values)
    mean = float(np.mean(values)) if n else 0.0
    stderr = float(np.std(values, ddof=1) / np.sqrt(n)) if n > 1 else None
    return {"task": task, "metric": metric, "filter": "none", "value": mean, "stderr": stderr, "n": n,
            "higher_is_better": higher}


@dataclass
class _Prompted:
    """SAM's answer for the objects of one image: prompts, masks, predicted IoUs, single-output masks and, for
    point prompts, the IoU after each click."""

    prompts: list[dict[str, Any]]
    masks: np.ndarray
    scores: np.ndarray
    single: np.ndarray
    click_ious: list[list[float]] | None


@dataclass
class _CocoInputs:
    """What COCOeval scores: each object's truth, the default mask of each, and the images."""

    truths: list[dict[str, Any]] = field(default_factory=list)
    predictions: list[dict[str, Any]] = field(default_factory=list)
    images: list[dict[str, Any]] = field(default_factory=list)


def load(model_path: str, *, device: str, dtype: Any) -> Sam:
    """SAM and its processor, on ``device`` in ``dtype``."""
    return Sam(model_path, device, dtype)


def evaluate(sam: Sam, dataset: SegmentationSet, task: str, *, device: str, dtype: Any, prompt: str = "point",
             clicks: int = 1, box_jitter: float = 0.0, seed: int = 0, coco_engine: str = "pycocotools",
             on_batch: Callable[[list[dict]], None] = lambda rows: None) -> Outcome:
    """Prompt SAM (``load``'s) with every object of every image; ``on_batch`` receives each image's rows."""
    import torch

    rng = np.random.default_rng(seed)
    cuda = torch.device(device).type == "cuda"
    outcome, coco = Outcome(), _CocoInputs()
    by_image = _objects_by_image(dataset)
    with torch.no_grad():
        for index, image in enumerate(dataset.images):
            coco.images.append({"id": index, "width": image.size[0], "height": image.size[1]})
            members = by_image.get(index, [])
            if not members:
                continue
            truth = [dataset.objects[n][3] for n in members]
            if cuda:
                torch.cuda.synchronize()
            started = time.perf_counter()
            prompted = _prompt_image(sam, image, truth, prompt, clicks, box_jitter, rng)
            if cuda:
                torch.cuda.synchronize()
            outcome.seconds += time.perf_counter() - started
            rows = _image_rows(dataset, index, members, prompted, clicks, coco)
            on_batch(rows)
            outcome.samples += rows
    with_objects = sum(1 for i in range(len(dataset.images)) if by_image.get(i))
    outcome.metrics = _summary(task, outcome, dataset, coco, prompt=prompt, clicks=clicks, coco_engine=coco_engine,
                               with_objects=with_objects)
    return outcome


def _objects_by_image(dataset: SegmentationSet) -> dict[int, list[int]]:
    """The object numbers of each image, by image index."""
    by_image: dict[int, list[int]] = {}
    for number, obj in enumerate(dataset.objects):
        by_image.setdefault(obj[0], []).append(number)
    return by_image


def _prompt_image(sam: Sam, image: Any, truth: list[np.ndarray], prompt: str, clicks: int, box_jitter: float,
                  rng: np.random.Generator) -> _Prompted:
    """Embed the image once and prompt SAM with each object's box or deepest point (then RITM clicks)."""
    embedding, _ = sam.embed(image)
    if prompt == "box":
        boxes = [list(box_prompt(m, box_jitter, rng)) for m in truth]
        masks, scores = sam.predict(image, embedding, True, boxes=boxes)
        single, _ = sam.predict(image, embedding, False, boxes=boxes)
        return _Prompted([{"box": b} for b in boxes], masks, scores, single, None)
    points = [[list(point_prompt(m))] for m in truth]
    prompts = [{"points": p, "labels": [1]} for p in points]
    masks, scores = sam.predict(image, embedding, True, points=points, labels=[[1] for _ in points])
    single, _ = sam.predict(image, embedding, False, points=points, labels=[[1] for _ in points])
    click_ious = _refine(sam, image, embedding, truth, masks, scores, clicks) if prompt == "point" else None
    return _Prompted(prompts, masks, scores, single, click_ious)


def _image_rows(dataset: SegmentationSet, index: int, members: list[int], prompted: _Prompted, clicks: int,
                coco: _CocoInputs) -> list[dict[str, Any]]:
    """One row per object of image ``index``; each object's default mask and truth also go to ``coco``."""
    rows = []
    for j, number in enumerate(members):
        _, object_id, category, gt = dataset.objects[number]
        masks, scores = prompted.masks[j], prompted.scores[j]
        ious = [iou(m, gt) for m in masks]
        chosen = int(np.argmax(scores))
        metrics = {"miou_default": ious[chosen], "miou_oracle": max(ious),
                   "miou_single": iou(prompted.single[j][0], gt)}
        if prompted.click_ious is not None and clicks > 1:
            metrics |= {f"miou_click_{k + 1}": v for k, v in enumerate(prompted.click_ious[j])}
        rows.append({"doc_id": number, "object_id": object_id, "image_id": dataset.image_ids[index],
                     "category": dataset.categories[category], "prompt": prompted.prompts[j], "ious": ious,
                     "predicted_ious": [float(s) for s in scores], "chosen": chosen,
                     "mask": encode(masks[chosen]), "metrics": metrics})
        coco.predictions.append({"image_id": index, "category_id": category, "mask": masks[chosen],
                                 "score": float(scores[chosen])})
        coco.truths.append({"id": number + 1, "image_id": index, "category_id": category, "mask": gt})
    return rows


def _summary(task: str, outcome: Outcome, dataset: SegmentationSet, coco: _CocoInputs, *, prompt: str, clicks: int,
             coco_engine: str, with_objects: int) -> list[dict[str, Any]]:
    """The mean IoUs over objects, COCOeval's mask AP/AR, and images per second."""
    per_object = [row["metrics"] for row in outcome.samples]
    names = ["miou_default", "miou_oracle", "miou_single"] + (
        [f"miou_click_{k}" for k in range(1, clicks + 1)] if clicks > 1 and prompt == "point" else [])
    metrics = [_mean(task, name, [m[name] for m in per_object]) for name in names]
    stats = coco_mask_stats(coco.truths, coco.predictions, coco.images, dataset.categories, coco_engine)
    metrics += [{"task": task, "metric": name, "filter": "none", "value": value, "stderr": None,
                 "n": len(per_object), "higher_is_better": True} for name, value in stats.items()]
    metrics.append({"task": task, "metric": "images_per_s", "filter": "none",
                    "value": with_objects / max(outcome.seconds, 1e-9), "stderr": None,
                    "n": with_objects, "higher_is_better": True})
    return metrics


def _refine(sam: Sam, image: Any, embedding: Any, truth: list[np.ndarray], masks: np.ndarray,
            scores: np.ndarray, clicks: int) -> list[list[float]]:
    """IoU after each click: click 1 is the point prompt (SAM's best-ranked mask), then RITM clicks."""
    history = []
    for j, gt in enumerate(truth):
        points, labels = [list(point_prompt(gt))], [1]
        current = masks[j][int(np.argmax(scores[j]))]
        ious = [iou(current, gt)]
        for _ in range(clicks - 1):
            click = next_click(current, gt)
            if click is not None:
                points.append([click[0], click[1]])
                labels.append(click[2])
                refined, _ = sam.predict(image, embedding, False, points=[points], labels=[labels])
                current = refined[0][0]
            ious.append(iou(current, gt))
        history.append(ious)
    return history
