"""The ``segmentation`` task type: objects with masks, prompted into SAM."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from harness.errors import HarnessError
from harness.metrics.masks import COCO_ENGINES
from harness.records import Outcome, SampleRow
from harness.registry.native_tasks import NativeTask
from harness.vision import segmentation, segmentation_data


class SegmentationType:
    """Promptable segmentation with transformers' ``SamModel``."""

    name = "segmentation"
    modality = "segmentation"
    metrics = [*segmentation.BASE_METRICS, *(f"miou_click_{k}" for k in range(1, 21))]

    def prepare(self, task: NativeTask, data: str | None, limit: int | float | None,
                options: dict[str, Any]) -> dict[str, Any]:
        """The objects: the built-in set, or ``--data instances.json --images DIR`` (COCO val2017's layout)."""
        if data is not None:
            if not options.get("images"):
                raise HarnessError("--data instances.json needs --images DIR (the folder of the annotated images)")
            objects = segmentation_data.coco_set(Path(data), Path(options["images"]))
        elif task.dataset in segmentation_data.BUILTIN:
            objects = segmentation_data.BUILTIN[task.dataset]()
        else:
            raise HarnessError(f"task {task.name} has no built-in images; pass --data instances.json --images DIR")
        if limit is not None:
            objects = objects.limited(int(limit) if limit >= 1 else max(1, int(len(objects.images) * limit)))
        settings = {"prompt": options.get("prompt") or task.options.get("prompt", "point"),
                    "clicks": int(options.get("clicks") or 1), "box_jitter": float(task.options.get("box_jitter", 0.0)),
                    "seed": int(task.options.get("seed", 0)), "coco_eval": options.get("coco_eval") or "pycocotools"}
        if settings["coco_eval"] not in COCO_ENGINES:
            raise HarnessError(f"--coco-eval {settings['coco_eval']!r}: use {' or '.join(COCO_ENGINES)}")
        if settings["prompt"] not in ("point", "box"):
            raise HarnessError(f"--prompt {settings['prompt']!r}: use point or box")
        if settings["clicks"] < 1 or (settings["clicks"] > 1 and settings["prompt"] != "point"):
            raise HarnessError("--clicks N (N ≥ 1) refines point prompts; drop it or use --prompt point")
        return {"objects": objects, "settings": settings}

    def validate(self, model_path: str, prepared: dict[str, Any]) -> None:
        """Nothing to check against the model: every SAM takes every prompt."""

    def content_hash(self, task: NativeTask, prepared: dict[str, Any]) -> str:
        """Hash of the task, its images, objects and masks."""
        objects = prepared["objects"]
        digest = hashlib.sha256(task.model_dump_json().encode())
        digest.update(repr((objects.image_ids, objects.categories)).encode())
        for image in objects.images:
            digest.update(image.tobytes())
        for index, object_id, category, mask in objects.objects:
            digest.update(f"{index}|{object_id}|{category}|".encode())
            digest.update(mask.tobytes())
        return digest.hexdigest()

    def load(self, model_path: str, prepared: dict[str, Any], *, device: str, dtype: Any) -> Any:
        """SAM and its processor."""
        return segmentation.load(model_path, device=device, dtype=dtype)

    def evaluate(self, loaded: Any, task: NativeTask, prepared: dict[str, Any], *, device: str, dtype: Any,
                 batch_size: int, on_batch: Any) -> Outcome:
        """Prompt SAM with every object (see ``harness.vision.segmentation.evaluate``)."""
        settings = prepared["settings"]
        return segmentation.evaluate(loaded, prepared["objects"], task.name, device=device, dtype=dtype,
                                     prompt=settings["prompt"], clicks=settings["clicks"],
                                     box_jitter=settings["box_jitter"], seed=settings["seed"],
                                     coco_engine=settings["coco_eval"], on_batch=on_batch)

    @staticmethod
    def sample_row(row: dict[str, Any]) -> SampleRow:
        """An object as a store sample: the chosen mask's RLE as prediction, prompt and IoUs in ``doc``."""
        doc = {key: row[key] for key in ("object_id", "image_id", "category", "prompt", "ious", "predicted_ious",
                                         "chosen")}
        return SampleRow(doc_id=row["doc_id"], output_type="segmentation", input=f"{row['image_id']}#{row['object_id']}",
                         target=row["category"], prediction=row["mask"], metrics=row["metrics"], doc=doc)


SEGMENTATION = SegmentationType()
