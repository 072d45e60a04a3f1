"""Turn what the user typed after ``--model`` into weights on disk and a fingerprint.

Accepted: a registry name (``pythia-410m``, ``tiny-pythia``), ``NAME@REVISION``,
a Hugging Face hub id (``EleutherAI/pythia-70m``) or a local checkpoint folder.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from harness.errors import HarnessError
from harness.registry import ModelSpec, all_models, get_model
from harness.resources import cache_dir

_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth")


@dataclass(frozen=True)
class ResolvedModel:
    """A model ready to load: where its files are and what identifies its weights."""

    name: str
    path: str
    fingerprint: str
    source: str  # "tiny" | "hub" | "local"
    spec: ModelSpec | None = None
    revision: str | None = None


def twin_for(name: str, spec: ModelSpec | None = None) -> str:
    """The tiny twin to suggest for a model that cannot be loaded."""
    family = spec.family if spec else name.lower()
    for key, twin in (("mixtral", "tiny-mixtral"), ("zephyr", "tiny-zephyr"), ("mistral", "tiny-mistral"),
                      ("orca", "tiny-orca-2"), ("vicuna", "tiny-vicuna"), ("llama", "tiny-llama-2"),
                      ("pythia", "tiny-pythia")):
        if key in family:
            return twin
    return "tiny-pythia"


def split_revision(name: str, revision: str | None) -> tuple[str, str | None]:
    """``pythia-410m@step143000`` -> (``pythia-410m``, ``step143000``); ``--revision`` must agree."""
    if "@" in name and not Path(name).exists():
        name, _, at_rev = name.partition("@")
        if revision and revision != at_rev:
            raise HarnessError(f"--revision {revision} contradicts {name}@{at_rev}; give the revision once")
        revision = at_rev
    return name, revision


def resolve_model(name: str, revision: str | None = None, weights: bool = True) -> ResolvedModel:
    """Locate ``name``'s weights (building tiny twins, using the hub cache) or raise one clear line; with
    ``weights=False`` a hub model's config and tokenizer files are enough (for planning)."""
    base, revision = split_revision(name, revision)
    models = all_models()
    if base in models:
        spec = get_model(base)
        if spec.tiny is not None:
            from harness.models.tiny import ensure_tiny, tiny_weights_sha256

            if revision:
                from harness.models.tiny_training import ensure_revision

                folder = ensure_revision(spec, revision)
                return ResolvedModel(name, str(folder), f"{base}@{revision}@sha256:{folder_weights_sha256(folder)}",
                                     "tiny", spec, revision)
            folder = ensure_tiny(spec)
            return ResolvedModel(name, str(folder), f"{base}@sha256:{tiny_weights_sha256(folder)}",
                                 "tiny", spec)
        if spec.hub_id is None:
            raise HarnessError(f"model {base!r} has no hub id; pass a checkpoint folder instead")
        return _from_hub(name, spec.hub_id, revision or spec.revision, spec, weights)
    if Path(base).is_dir():
        return _from_folder(name, Path(base))
    if base.count("/") == 1 and not base.startswith((".", "/")):
        return _from_hub(name, base, revision, None, weights)
    if os.sep in base or base.startswith("."):
        raise HarnessError(f"model folder {base} does not exist; pass a checkpoint folder, a hub id or a registry name")
    return get_model(base)  # raises UnknownNameError with suggestions


def _from_folder(name: str, folder: Path) -> ResolvedModel:
    if not (folder / "config.json").exists():
        raise HarnessError(f"{folder} has no config.json; point --model at a transformers checkpoint folder")
    return ResolvedModel(name, str(folder.resolve()), f"local:sha256:{folder_weights_sha256(folder)}", "local")


def folder_weights_sha256(folder: Path) -> str:
    """Content hash of a checkpoint's weight files, cached by (path, size, mtime)."""
    files = sorted(p for p in folder.iterdir() if p.suffix in _WEIGHT_SUFFIXES and p.is_file())
    stamp = json.dumps([[str(p.resolve()), p.stat().st_size, p.stat().st_mtime_ns] for p in files])
    memo = cache_dir() / "hashes" / (hashlib.sha256(stamp.encode()).hexdigest() + ".txt")
    if memo.exists():
        return memo.read_text().strip()
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.name.encode())
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 24):
                digest.update(chunk)
    memo.parent.mkdir(parents=True, exist_ok=True)
    memo.write_text(digest.hexdigest())
    return digest.hexdigest()


def hub_reachable(timeout: float = 2.0) -> bool:
    """Whether the hub answers a TCP connection quickly (False when HF_HUB_OFFLINE is set)."""
    from huggingface_hub import constants

    if constants.HF_HUB_OFFLINE:
        return False
    url = urlparse(constants.ENDPOINT)
    try:
        socket.create_connection((url.hostname, url.port or 443), timeout=timeout).close()
        return True
    except OSError:
        return False


def _from_hub(name: str, hub_id: str, revision: str | None, spec: ModelSpec | None,
              weights: bool = True) -> ResolvedModel:
    from huggingface_hub import constants, snapshot_download

    revision = revision or "main"
    patterns = ["*.json", "*.model", "*.txt", "*.jinja"] + (["*.safetensors"] if weights else [])
    try:
        folder = snapshot_download(hub_id, revision=revision, local_files_only=True, allow_patterns=patterns)
    except Exception:
        folder = None
    if folder is None:
        if not hub_reachable():
            raise HarnessError(
                f"model {name!r} ({hub_id}, revision {revision}) is not in the Hugging Face cache "
                f"({constants.HF_HUB_CACHE}) and the hub is unreachable; try --model {twin_for(hub_id, spec)}"
            )
        try:
            folder = snapshot_download(hub_id, revision=revision, allow_patterns=patterns,
                                       token=os.environ.get("HF_TOKEN"))
        except Exception as exc:
            hint = " (a gated model: accept its licence on the hub and set HF_TOKEN)" if "gated" in str(exc).lower() \
                or "401" in str(exc) or "403" in str(exc) else ""
            raise HarnessError(f"could not download model {name!r} ({hub_id}@{revision}){hint}: "
                               f"{str(exc).splitlines()[0]}") from exc
    commit = Path(folder).name
    return ResolvedModel(name, folder, f"{hub_id}@{commit}", "hub", spec, revision)


def planned_fingerprint(name: str, revision: str | None = None) -> tuple[str | None, ModelSpec | None]:
    """The fingerprint ``resolve_model`` would give, without downloading weights; None when it cannot be known
    here (a hub model neither cached nor reachable). Tiny twins are built, local folders hashed."""
    base, revision = split_revision(name, revision)
    if base in all_models():
        spec = get_model(base)
        if spec.tiny is not None or spec.hub_id is None:
            return resolve_model(name, revision).fingerprint, spec
        hub_id, revision = spec.hub_id, revision or spec.revision
    elif Path(base).is_dir() or base.count("/") != 1 or base.startswith((".", "/")):
        return resolve_model(name, revision).fingerprint, None  # a folder, or the usual error
    else:
        hub_id, spec = base, None
    commit = _hub_commit(hub_id, revision or "main")
    return (f"{hub_id}@{commit}" if commit else None), spec


def _hub_commit(hub_id: str, revision: str) -> str | None:
    """The commit a hub revision names: itself, the cache's record of it, or the hub's answer."""
    import re

    from huggingface_hub import HfApi, constants

    if re.fullmatch(r"[0-9a-f]{40}", revision):
        return revision
    ref = Path(constants.HF_HUB_CACHE) / f"models--{hub_id.replace('/', '--')}" / "refs" / revision
    if ref.is_file():
        return ref.read_text().strip()
    if not hub_reachable():
        return None
    try:
        return HfApi().model_info(hub_id, revision=revision, token=os.environ.get("HF_TOKEN")).sha
    except Exception:  # gated, missing or unreachable: the job itself will say why
        return None


def check_adapter(path: str) -> Path:
    """A LoRA adapter folder as peft saves it (``adapter_config.json`` and its weights), or one line why not."""
    folder = Path(path)
    if not (folder / "adapter_config.json").is_file():
        raise HarnessError(f"--adapter {path}: not an adapter folder (no adapter_config.json); pass the folder "
                           "peft's save_pretrained wrote")
    return folder


def variant_fingerprint(fingerprint: str, adapter: str | None, quantization: str | None) -> str:
    """The fingerprint of weights as a run loads them: with a LoRA adapter (its config and weights hashed) and
    quantized (``+nf4``, ``+int8``)."""
    if adapter is not None:
        folder = check_adapter(adapter)
        digest = hashlib.sha256((folder / "adapter_config.json").read_bytes())
        digest.update(folder_weights_sha256(folder).encode())
        fingerprint += f"+adapter:{digest.hexdigest()[:16]}"
    if quantization is not None:
        fingerprint += f"+{quantization}"
    return fingerprint
