"""The ``classification`` task type: which images a task means, and how a run evaluates them."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from harness.errors import HarnessError
from harness.records import Outcome, SampleRow
from harness.registry.native_tasks import NativeTask
from harness.vision import classification, datasets


class ClassificationType:
    """Image classification with transformers' ``*ForImageClassification`` models."""

    name = "classification"
    modality = "vision"
    metrics = classification.METRICS
    higher_is_better = {"top1": True, "top5": True, "images_per_s": True, "gflops": False, "params": False}

    def prepare(self, task: NativeTask, data: str | None, limit: int | float | None,
                options: dict[str, Any]) -> dict[str, Any]:
        """The task's image set: the built-in one, ``--data``'s ImageFolder tree with its label map, or
        ``--data hf:NAME[:SPLIT]`` (a Hugging Face dataset)."""
        if data is not None and data.startswith("hf:"):
            images, label_map = datasets.hub_dataset(data), None
        elif data is not None:
            root = Path(data)
            images = datasets.image_folder(root)
            label_map = datasets.read_label_map(root / "labels.json")
        elif task.dataset in datasets.BUILTIN:
            images, label_map = datasets.BUILTIN[task.dataset](), None
        else:
            raise HarnessError(f"task {task.name} has no built-in images; pass --data FOLDER (an ImageFolder tree)")
        if limit is not None:
            count = int(limit) if limit >= 1 else max(1, int(len(images) * limit))
            images = datasets.ImageSet(images.name, images.images[:count], images.labels[:count], images.classes,
                                       images.ids[:count])
        return {"images": images, "label_map": label_map, "settings": {}}

    def validate(self, model_path: str, prepared: dict[str, Any]) -> None:
        """Refuse a label map that does not fit the model, before any run is written."""
        from transformers import AutoConfig

        datasets.label_ids(prepared["images"], AutoConfig.from_pretrained(model_path).id2label, prepared["label_map"])

    def content_hash(self, task: NativeTask, prepared: dict[str, Any]) -> str:
        """Hash of the task definition and every image, label and class it shows the model."""
        images = prepared["images"]
        digest = hashlib.sha256(task.model_dump_json().encode())
        digest.update(repr((images.classes, images.labels, images.ids, prepared["label_map"])).encode())
        for image in images.images:
            digest.update(image.tobytes())
        return digest.hexdigest()

    def load(self, model_path: str, prepared: dict[str, Any], *, device: str, dtype: Any) -> Any:
        """The image processor and classifier."""
        return classification.load(model_path, device=device, dtype=dtype)

    def evaluate(self, loaded: Any, task: NativeTask, prepared: dict[str, Any], *, device: str, dtype: Any,
                 batch_size: int, on_batch: Any) -> Outcome:
        """Classify the images (see ``harness.vision.classification.evaluate``)."""
        return classification.evaluate(loaded, prepared["images"], task.name, device=device, dtype=dtype,
                                       batch_size=batch_size, label_map=prepared["label_map"], on_batch=on_batch)

    @staticmethod
    def sample_row(row: dict[str, Any]) -> SampleRow:
        """A scored image as a store sample (input: the image id; doc: its top-5 classes)."""
        return SampleRow(doc_id=row["doc_id"], output_type="classification", input=row["id"], target=row["target"],
                         prediction=row["prediction"], metrics=row["metrics"],
                         doc={"id": row["id"], "top5": row["top5"]})


CLASSIFICATION = ClassificationType()
