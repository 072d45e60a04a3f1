"""Images with object masks for promptable segmentation: offline sets from scikit-image's shipped images,
synthetic shapes with exact masks, and the user's COCO-format annotations.

Masks are boolean H×W NumPy arrays; every object belongs to one image and one category.
"""

from __future__ import annotations

import contextlib
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from harness.errors import HarnessError


@dataclass
class SegmentationSet:
    """Images (RGB ``PIL.Image``) and their objects: ``objects[i] = (image index, object id, category, mask)``."""

    name: str
    images: list[Any]
    image_ids: list[str]
    categories: list[str]
    objects: list[tuple[int, str, int, np.ndarray]] = field(default_factory=list)

    def limited(self, count: int) -> SegmentationSet:
        """The first ``count`` images and their objects."""
        kept = [o for o in self.objects if o[0] < count]
        return SegmentationSet(self.name, self.images[:count], self.image_ids[:count], self.categories, kept)


def _grey_rgb(array: np.ndarray) -> Any:
    from PIL import Image

    return Image.fromarray(np.clip(array, 0, 255).astype(np.uint8)).convert("RGB")


def _components(mask: np.ndarray, min_area: int) -> list[np.ndarray]:
    from skimage import measure

    labels = measure.label(mask, connectivity=1)
    return [labels == region.label for region in measure.regionprops(labels) if region.area >= min_area]


def skimage_set() -> SegmentationSet:
    """Real images shipped by scikit-image: the horse silhouette, seeded binary blobs (one object per blob) and
    the coins photograph thresholded with Otsu's method (one object per coin-sized region)."""
    from skimage import data, filters, morphology

    images, ids, objects = [], [], []
    horse = ~data.horse()
    images.append(_grey_rgb(np.where(horse, 40, 220)))
    ids.append("skimage/horse")
    objects.append((0, "horse", 0, horse))
    blobs = data.binary_blobs(length=128, blob_size_fraction=0.15, volume_fraction=0.2, rng=0)
    images.append(_grey_rgb(np.where(blobs, 200, 30)))
    ids.append("skimage/blobs")
    objects += [(1, f"blob-{i}", 1, m) for i, m in enumerate(_components(blobs, 40))]
    coins = data.coins()
    foreground = morphology.opening(coins > filters.threshold_otsu(coins), morphology.disk(2))
    images.append(_grey_rgb(coins))
    ids.append("skimage/coins")
    objects += [(2, f"coin-{i}", 2, m) for i, m in enumerate(_components(foreground, 300))]
    return SegmentationSet("skimage", images, ids, ["horse", "blob", "coin"], objects)


SHAPE_CATEGORIES = ("circle", "square", "triangle")


def shapes_set(count: int = 40, size: int = 96, seed: int = 0) -> SegmentationSet:
    """Synthetic images with one to three non-overlapping filled shapes each, and their exact masks."""
    from PIL import Image, ImageDraw

    rng = np.random.default_rng(seed)
    images, ids, objects = [], [], []
    for index in range(count):
        image = Image.new("RGB", (size, size), tuple(int(v) for v in rng.integers(0, 256, 3)))
        taken = np.zeros((size, size), bool)
        for number in range(int(rng.integers(1, 4))):
            category = int(rng.integers(0, len(SHAPE_CATEGORIES)))
            radius = int(rng.integers(size // 10, size // 5))
            cx, cy = (int(v) for v in rng.integers(radius, size - radius, 2))
            layer = Image.new("L", (size, size), 0)
            draw = ImageDraw.Draw(layer)
            box = [cx - radius, cy - radius, cx + radius, cy + radius]
            if SHAPE_CATEGORIES[category] == "circle":
                draw.ellipse(box, fill=255)
            elif SHAPE_CATEGORIES[category] == "square":
                draw.rectangle(box, fill=255)
            else:
                draw.polygon([(cx, cy - radius), (cx - radius, cy + radius), (cx + radius, cy + radius)], fill=255)
            mask = np.asarray(layer) > 0
            if (mask & taken).any():
                continue  # keep objects apart, so every mask is exact
            taken |= mask
            image.paste(tuple(int(v) for v in rng.integers(0, 256, 3)), mask=layer)
            objects.append((index, f"{index}-{number}", category, mask))
        images.append(image)
        ids.append(f"shapes/{index}")
    return SegmentationSet("shapes", images, ids, list(SHAPE_CATEGORIES), objects)


BUILTIN = {"skimage": skimage_set, "shapes": shapes_set}


def coco_set(annotations: Path, images_dir: Path) -> SegmentationSet:
    """A COCO instances file (val2017's layout) and its image folder; crowd annotations are skipped."""
    from PIL import Image
    from pycocotools.coco import COCO

    if not annotations.is_file():
        raise HarnessError(f"--data {annotations}: no such annotations file (COCO instances JSON)")
    if not images_dir.is_dir():
        raise HarnessError(f"--images {images_dir}: not a folder of the annotated images")
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # pycocotools prints progress; stdout carries results
            coco = COCO(str(annotations))
    except (ValueError, KeyError, TypeError, json.JSONDecodeError) as exc:
        raise HarnessError(f"--data {annotations}: not COCO instances JSON ({exc})") from exc
    categories = {c["id"]: i for i, c in enumerate(coco.loadCats(coco.getCatIds()))}
    images, ids, objects = [], [], []
    for image_id in sorted(coco.getImgIds()):
        info = coco.loadImgs(image_id)[0]
        path = images_dir / info["file_name"]
        if not path.is_file():
            raise HarnessError(f"--images {images_dir}: missing {info['file_name']} (image {image_id})")
        index = len(images)
        images.append(Image.open(path).convert("RGB"))
        ids.append(str(image_id))
        for ann in coco.loadAnns(coco.getAnnIds(imgIds=image_id, iscrowd=False)):
            objects.append((index, str(ann["id"]), categories[ann["category_id"]], coco.annToMask(ann).astype(bool)))
    names = [c["name"] for c in coco.loadCats(coco.getCatIds())]
    return SegmentationSet(annotations.stem, images, ids, names, objects)
