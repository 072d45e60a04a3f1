"""Labelled image sets: offline ones built from data that PyPI packages ship, synthetic shapes, and the
user's own ImageFolder trees.

Every image is an RGB ``PIL.Image``; ``labels`` index ``classes``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from harness.errors import HarnessError

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff"}


@dataclass
class ImageSet:
    """Images with integer labels, class names and stable ids."""

    name: str
    images: list[Any]
    labels: list[int]
    classes: list[str]
    ids: list[str]

    def __len__(self) -> int:
        return len(self.images)


def _rgb(array: np.ndarray, size: int) -> Any:
    from PIL import Image

    image = Image.fromarray(np.clip(array * 255, 0, 255).astype(np.uint8))
    return image.convert("RGB").resize((size, size), Image.BILINEAR)


def digits(size: int = 32) -> ImageSet:
    """scikit-learn's 1,797 handwritten digits (8×8, 17 grey levels), upscaled bilinearly to ``size``."""
    from sklearn.datasets import load_digits

    data = load_digits()
    images = [_rgb(image / 16.0, size) for image in data.images]
    return ImageSet("digits", images, [int(t) for t in data.target], [str(c) for c in data.target_names],
                    [f"digits/{i}" for i in range(len(images))])


def faces(size: int = 32) -> ImageSet:
    """scikit-image's ``lfw_subset``: 100 faces then 100 non-face patches (25×25), upscaled to ``size``."""
    from skimage.data import lfw_subset

    patches = lfw_subset()
    labels = [1] * 100 + [0] * 100
    return ImageSet("faces", [_rgb(p, size) for p in patches], labels, ["non-face", "face"],
                    [f"faces/{i}" for i in range(len(patches))])


SHAPES = ("circle", "square", "triangle")


def shapes(count: int = 300, size: int = 32, seed: int = 0) -> ImageSet:
    """Synthetic filled circles, squares and triangles of random colour, size and place on a random background."""
    from PIL import Image, ImageDraw

    rng = np.random.default_rng(seed)
    images, labels = [], []
    for index in range(count):
        label = index % len(SHAPES)
        background, colour = (tuple(int(v) for v in rng.integers(0, 256, 3)) for _ in range(2))
        image = Image.new("RGB", (size, size), background)
        radius = int(rng.integers(size // 6, size // 3))
        cx, cy = (int(v) for v in rng.integers(radius, size - radius, 2))
        draw = ImageDraw.Draw(image)
        if SHAPES[label] == "circle":
            draw.ellipse([cx - radius, cy - radius, cx + radius, cy + radius], fill=colour)
        elif SHAPES[label] == "square":
            draw.rectangle([cx - radius, cy - radius, cx + radius, cy + radius], fill=colour)
        else:
            draw.polygon([(cx, cy - radius), (cx - radius, cy + radius), (cx + radius, cy + radius)], fill=colour)
        images.append(image)
        labels.append(label)
    return ImageSet("shapes", images, labels, list(SHAPES), [f"shapes/{i}" for i in range(count)])


BUILTIN = {"digits": digits, "faces": faces, "shapes": shapes}


def image_folder(root: Path) -> ImageSet:
    """An ImageFolder tree (``root/CLASS/IMAGE``, ImageNet validation layout): classes are the sorted folder
    names; ``root/labels.json`` may map folder names to the model's label names or ids (see ``label_ids``)."""
    from PIL import Image

    if not root.is_dir():
        raise HarnessError(f"--data {root}: not a folder; give an ImageFolder tree (one sub-folder of images per class)")
    classes = sorted(p.name for p in root.iterdir() if p.is_dir())
    images, labels, ids = [], [], []
    for label, name in enumerate(classes):
        for path in sorted(p for p in (root / name).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES):
            try:
                images.append(Image.open(path).convert("RGB"))
            except OSError as exc:
                raise HarnessError(f"--data: cannot read image {path}: {exc}") from exc
            labels.append(label)
            ids.append(f"{name}/{path.name}")
    if not images:
        raise HarnessError(f"--data {root}: no images found in class sub-folders ({', '.join(IMAGE_SUFFIXES)})")
    return ImageSet(root.name, images, labels, classes, ids)


def hub_dataset(reference: str) -> ImageSet:
    """``hf:NAME[:SPLIT]``: a Hugging Face image-classification dataset (a hub id or a local dataset folder) with
    an image column (``image`` or ``img``) and a ``ClassLabel`` column (``label`` or ``labels``); the split
    defaults to ``validation``, else ``test``."""
    import datasets as hf_datasets

    name, _, split = reference.removeprefix("hf:").partition(":")
    try:
        loaded = hf_datasets.load_dataset(name)
    except Exception as exc:  # the hub raises many types when offline or the name is wrong
        raise HarnessError(f"--data {reference}: could not load the dataset ({type(exc).__name__}: "
                           f"{str(exc).splitlines()[0][:160]}); offline, give a local folder") from exc
    split = split or next((s for s in ("validation", "test") if s in loaded), "")
    if split not in loaded:
        raise HarnessError(f"--data {reference}: no split {split!r} (it has {', '.join(loaded)}); add :SPLIT")
    table = loaded[split]
    image_column = next((c for c in ("image", "img") if c in table.column_names), None)
    label_column = next((c for c in ("label", "labels") if c in table.column_names), None)
    feature = table.features.get(label_column) if label_column else None
    if image_column is None or not isinstance(feature, hf_datasets.ClassLabel):
        raise HarnessError(f"--data {reference}: need an 'image' column and a ClassLabel 'label' column "
                           f"(it has {', '.join(table.column_names)})")
    images = [image.convert("RGB") for image in table[image_column]]
    return ImageSet(name, images, [int(v) for v in table[label_column]], list(feature.names),
                    [f"{split}/{i}" for i in range(len(images))])


def label_ids(dataset: ImageSet, id2label: dict[int, str], label_map: dict[str, Any] | None) -> list[int]:
    """The model output index of each dataset class.

    With a label map (class name -> the model's label id or label name), each class goes to that output; a
    class named like one of the model's labels goes to it; otherwise class K goes to output K (the
    built-in sets, and checkpoints fine-tuned on them).
    """
    by_name = {name: int(i) for i, name in id2label.items()}
    out = []
    for index, name in enumerate(dataset.classes):
        target = (label_map or {}).get(name, name if name in by_name else index)
        if isinstance(target, str):
            if target not in by_name:
                raise HarnessError(f"label map: class {name!r} maps to {target!r}, which is not a label of this model")
            target = by_name[target]
        if not 0 <= int(target) < len(id2label):
            raise HarnessError(f"label map: class {name!r} maps to output {target}, outside the model's "
                               f"{len(id2label)} labels")
        out.append(int(target))
    if len(set(out)) != len(out):
        raise HarnessError("label map: two classes map to the same model output; give each class its own label")
    return out


def read_label_map(path: Path | None) -> dict[str, Any] | None:
    """A JSON object mapping class folder names to model label ids or names."""
    if path is None or not path.exists():
        return None
    try:
        mapping = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise HarnessError(f"{path}: not valid JSON ({exc.msg}); give {{\"class folder\": label id or name}}") from exc
    if not isinstance(mapping, dict):
        raise HarnessError(f"{path}: give a JSON object {{\"class folder\": label id or name}}")
    return mapping
