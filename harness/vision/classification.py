"""Image classification as timm's ``validate.py`` scores it, with throughput and compute per image.

Accuracy: top-k of the logits over the dataset's classes (each class mapped to one model output), a sample
being right at k when its label is among the k best. Throughput is timed apart from data loading: images are
preprocessed first, a warm-up batch runs untimed, then every batch is timed (synchronising on CUDA), as timm's
``benchmark.py`` does. GFLOPs per image come from PyTorch's FLOP counter on one image (FLOPs, not MACs).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from harness.metrics.rows import mean_row
from harness.records import Outcome
from harness.vision.datasets import ImageSet, label_ids

METRICS = ["top1", "top5", "images_per_s", "gflops", "params"]


def topk_correct(logits: Any, targets: Any, ks: tuple[int, ...] = (1, 5)) -> dict[int, Any]:
    """Per sample, whether the target is among the top k logits (timm's ``accuracy``; k capped at the classes)."""
    maxk = min(max(ks), logits.shape[1])
    top = logits.topk(maxk, dim=1, largest=True, sorted=True).indices
    hits = top.eq(targets.reshape(-1, 1))
    return {k: hits[:, :min(k, maxk)].any(dim=1) for k in ks}


def gflops_per_image(model: Any, pixels: Any) -> float:
    """Forward FLOPs of one image, in billions, from ``torch.utils.flop_counter``."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        model(pixel_values=pixels[:1])
    return counter.get_total_flops() / 1e9


def load(model_path: str, *, device: str, dtype: Any) -> tuple[Any, Any]:
    """The image processor (Pillow's; torchvision cannot load here) and the model, on ``device`` in ``dtype``."""
    from transformers import AutoImageProcessor, AutoModelForImageClassification
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    processor = AutoImageProcessor.from_pretrained(model_path, backend="pil")
    model = AutoModelForImageClassification.from_pretrained(model_path, dtype=dtype).to(device).eval()
    return processor, model


def _scored_rows(dataset: ImageSet, start: int, logits: Any, hits: dict[int, Any]) -> list[dict[str, Any]]:
    """One batch's sample rows: target, prediction, top-5 classes and per-sample top-1/top-5."""
    ranked = logits.topk(min(5, logits.shape[1]), dim=1).indices.tolist()
    rows = []
    for offset, best in enumerate(ranked):
        i = start + offset
        rows.append({"doc_id": i, "id": dataset.ids[i], "target": dataset.classes[dataset.labels[i]],
                     "prediction": dataset.classes[best[0]], "top5": [dataset.classes[b] for b in best],
                     "metrics": {"top1": float(hits[1][offset]), "top5": float(hits[5][offset])}})
    return rows


def evaluate(loaded: tuple[Any, Any], dataset: ImageSet, task: str, *, device: str, dtype: Any, batch_size: int,
             label_map: dict[str, Any] | None = None, on_batch: Callable[[list[dict]], None] = lambda rows: None,
             ) -> Outcome:
    """Classify every image with ``loaded`` (``load``'s processor and model) on ``device`` in ``dtype``;
    ``on_batch`` receives each batch's sample rows as they are scored."""
    import torch

    processor, model = loaded
    index = torch.tensor(label_ids(dataset, model.config.id2label, label_map), device=device)
    batches = [processor(images=dataset.images[i:i + batch_size], return_tensors="pt")["pixel_values"]
               for i in range(0, len(dataset), batch_size)]  # data loading, outside the timed loop
    cuda = torch.device(device).type == "cuda"
    outcome = Outcome()
    with torch.no_grad():
        model(pixel_values=batches[0].to(device, dtype))  # warm-up
        for number, pixels in enumerate(batches):
            pixels = pixels.to(device, dtype)
            if cuda:
                torch.cuda.synchronize()
            started = time.perf_counter()
            logits = model(pixel_values=pixels).logits
            if cuda:
                torch.cuda.synchronize()
            outcome.seconds += time.perf_counter() - started
            logits = logits.float()[:, index]
            start = number * batch_size
            targets = torch.tensor(dataset.labels[start:start + len(pixels)], device=logits.device)
            rows = _scored_rows(dataset, start, logits, topk_correct(logits, targets))
            on_batch(rows)
            outcome.samples += rows
    outcome.metrics = _metrics(task, outcome, model, batches[0].to(device, dtype))
    return outcome


def _metrics(task: str, outcome: Outcome, model: Any, pixels: Any) -> list[dict[str, Any]]:
    """Top-1 and top-5 means, images per second of timed model calls, GFLOPs per image and parameters."""
    top1 = [row["metrics"]["top1"] for row in outcome.samples]
    top5 = [row["metrics"]["top5"] for row in outcome.samples]
    params = sum(p.numel() for p in model.parameters())
    flops = gflops_per_image(model, pixels)
    return [mean_row(task, "top1", top1), mean_row(task, "top5", top5)] + [
        {"task": task, "metric": name, "filter": "none", "value": float(value), "stderr": None, "n": len(top1),
         "higher_is_better": higher}
        for name, value, higher in (("images_per_s", len(top1) / max(outcome.seconds, 1e-9), True),
                                    ("gflops", flops, False), ("params", params, False))]
