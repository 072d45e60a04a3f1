"""Model registry, tiny twins, plugins and listings."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from harness.errors import HarnessError, UnknownNameError
from harness.models.resolve import resolve_model, split_revision
from harness.models.tiny import ensure_tiny, seeded_tensor, weights_sha256
from harness.models.tiny_tokenizer import COMMITTED, train
from harness.registry import all_models, get_model
from tests.helpers import REPO, cli_json

TINY_TEXT = ["tiny-pythia", "tiny-llama-2", "tiny-llama-2-chat", "tiny-mistral", "tiny-mistral-instruct",
             "tiny-mixtral", "tiny-orca-2", "tiny-vicuna", "tiny-zephyr"]


def test_real_models_are_registered_with_metadata():
    names = set(all_models())
    sizes = ["70m", "160m", "410m", "1b", "1.4b", "2.8b", "6.9b", "12b"]
    assert {f"pythia-{s}{d}" for s in sizes for d in ("", "-deduped")} <= names
    assert {f"llama-2-{s}{c}" for s in ("7b", "13b", "70b") for c in ("", "-chat")} <= names
    assert {"mistral-7b", "mistral-7b-instruct", "mixtral-8x7b", "mixtral-8x7b-instruct", "orca-2-7b",
            "orca-2-13b", "vicuna-7b", "zephyr-7b-beta", "sam-vit-b", "sam-vit-l", "sam-vit-h"} <= names
    assert {m.modality for m in all_models().values()} >= {"text", "vision", "segmentation", "video"}
    llama = get_model("llama-2-7b-chat")
    assert (llama.hub_id, llama.chat_template, llama.gated) == ("meta-llama/Llama-2-7b-chat-hf", "llama-2-chat", True)
    assert get_model("pythia-410m").parameters == 405_334_016


def test_revision_syntax():
    assert split_revision("pythia-410m@step143000", None) == ("pythia-410m", "step143000")
    assert split_revision("pythia-410m", "step1000") == ("pythia-410m", "step1000")
    with pytest.raises(HarnessError):
        split_revision("pythia-410m@step1", "step2")


@pytest.mark.parametrize("name", TINY_TEXT)
def test_tiny_twin_is_the_real_architecture_and_matches_its_recorded_hash(name):
    import transformers
    from safetensors.numpy import load_file

    spec = get_model(name)
    folder = ensure_tiny(spec)
    assert weights_sha256(load_file(str(folder / "model.safetensors"))) == spec.tiny.weights_sha256
    config = transformers.AutoConfig.from_pretrained(folder)
    assert config.architectures == [spec.architecture]
    assert config.hidden_size // config.num_attention_heads == 64  # vLLM's CPU attention needs head_dim 64
    tokenizer = transformers.AutoTokenizer.from_pretrained(folder)
    assert bool(tokenizer.chat_template) == bool(spec.chat_template)
    if spec.chat_template:
        rendered = tokenizer.apply_chat_template([{"role": "user", "content": "Hi"}], tokenize=False,
                                                 add_generation_prompt=True)
        assert "Hi" in rendered and rendered != "Hi"


TINY_VISION = ["tiny-resnet", "tiny-convnext", "tiny-vit"]


@pytest.mark.parametrize("name", TINY_VISION)
def test_tiny_vision_twins_are_real_classes_with_their_own_image_processor(name):
    import numpy as np
    import torch
    import transformers
    from PIL import Image
    from safetensors.numpy import load_file

    spec = get_model(name)
    folder = ensure_tiny(spec)
    assert weights_sha256(load_file(str(folder / "model.safetensors"))) == spec.tiny.weights_sha256
    model = transformers.AutoModelForImageClassification.from_pretrained(folder)
    assert type(model).__name__ == spec.architecture and spec.modality == "vision"
    assert sum(p.numel() for p in model.parameters()) == spec.parameters
    processor = transformers.AutoImageProcessor.from_pretrained(folder, backend="pil")
    image = Image.fromarray(np.random.default_rng(0).integers(0, 255, (48, 40, 3), dtype=np.uint8))
    pixels = processor(images=[image], return_tensors="pt")["pixel_values"]
    assert tuple(pixels.shape) == (1, 3, 32, 32)
    with torch.no_grad():
        logits = model(pixel_values=pixels).logits
    assert tuple(logits.shape) == (1, 1000) and torch.isfinite(logits).all() and logits.std() > 0.1


def test_tiny_sam_is_samodel_with_tied_embeddings_and_a_pillow_processor():
    import transformers
    from safetensors.numpy import load_file

    spec = get_model("tiny-sam")
    folder = ensure_tiny(spec)
    tensors = load_file(str(folder / "model.safetensors"))
    assert weights_sha256(tensors) == spec.tiny.weights_sha256 and spec.modality == "segmentation"
    assert (tensors["shared_image_embedding.positional_embedding"]
            == tensors["prompt_encoder.shared_embedding.positional_embedding"]).all()
    model = transformers.SamModel.from_pretrained(folder)
    assert sum(p.numel() for p in model.parameters()) == spec.parameters
    processor = transformers.SamProcessor.from_pretrained(folder)
    assert type(processor.image_processor).__name__ == "SamImageProcessorPil"


def test_twins_differ_and_mistral_and_mixtral_keep_their_features():
    import transformers

    assert len({get_model(n).tiny.weights_sha256 for n in TINY_TEXT}) == len(TINY_TEXT)
    mistral = transformers.AutoConfig.from_pretrained(ensure_tiny(get_model("tiny-mistral")))
    mixtral = transformers.AutoConfig.from_pretrained(ensure_tiny(get_model("tiny-mixtral")))
    assert mistral.sliding_window == 64
    assert (mixtral.num_local_experts, mixtral.num_experts_per_tok) == (4, 2)


def test_seeded_weights_are_spread_and_deterministic():
    a = seeded_tensor("tiny-x", "layers.0.mlp.weight", (64, 64))
    assert (a == seeded_tensor("tiny-x", "layers.0.mlp.weight", (64, 64))).all()
    assert not (a == seeded_tensor("tiny-y", "layers.0.mlp.weight", (64, 64))).all()
    assert 0.18 < a.std() < 0.22
    assert (seeded_tensor("tiny-x", "final_layer_norm.weight", (8,)) == 1).all()


def test_a_changed_recipe_is_refused(tmp_path, monkeypatch):
    spec = get_model("tiny-pythia")
    tampered = spec.model_copy(update={"tiny": spec.tiny.model_copy(update={"weights_sha256": "0" * 64})})
    monkeypatch.setenv("HARNESS_CACHE", str(tmp_path))
    with pytest.raises(HarnessError, match="differs from the recorded"):
        ensure_tiny(tampered)


def test_tokenizer_retrains_to_the_committed_file():
    assert train() + "\n" == COMMITTED.read_text(encoding="utf-8")


def test_local_checkpoint_folder_gets_a_content_fingerprint(tmp_path):
    import shutil

    source = ensure_tiny(get_model("tiny-pythia"))
    copy = shutil.copytree(source, tmp_path / "ckpt")
    first = resolve_model(str(copy))
    assert first.source == "local" and first.fingerprint.startswith("local:sha256:")
    assert resolve_model(str(copy)).fingerprint == first.fingerprint
    (copy / "model.safetensors").write_bytes((copy / "model.safetensors").read_bytes() + b"\0")
    assert resolve_model(str(copy)).fingerprint != first.fingerprint


def test_unknown_names_suggest():
    with pytest.raises(UnknownNameError, match="did you mean 'mistral-7b'"):
        get_model("mistral-7")


def test_models_and_tasks_listings():
    models = cli_json("models", "tiny-*", "--format", "json")
    assert {m["name"] for m in models} == set(TINY_TEXT + TINY_VISION + ["tiny-sam", "tiny-video-ldm"])
    assert all(m["tiny"] for m in models)
    vision = cli_json("models", "--modality", "segmentation", "--format", "json")
    assert {m["name"] for m in vision} == {"sam-vit-b", "sam-vit-l", "sam-vit-h", "tiny-sam"}
    tasks = {t["name"]: t["kind"] for t in cli_json("tasks", "finance", "--format", "json")}
    assert tasks["finance"] == "group"
    assert {"finance_sentiment", "finance_numeric", "finance_headline"} <= set(tasks)


def test_entry_point_plugins_add_models_and_tasks(tmp_path):
    (tmp_path / "myplugin.py").write_text(textwrap.dedent("""
        from pathlib import Path
        from harness.registry import ModelSpec

        def models():
            return [ModelSpec(name="acme-7b", family="acme", hub_id="acme/acme-7b",
                              architecture="LlamaForCausalLM", parameters=7_000_000_000)]

        TASKS = str(Path(__file__).parent / "acme_tasks")
    """))
    (tmp_path / "acme_tasks").mkdir()
    (tmp_path / "acme_tasks" / "acme.yaml").write_text(
        "task: acme_qa\ndataset_path: json\noutput_type: multiple_choice\ndoc_to_text: q\ndoc_to_target: 0\n"
        "doc_to_choice: ['a', 'b']\ntest_split: test\n")
    dist = tmp_path / "myplugin-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: myplugin\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[harness.models]\nacme = myplugin:models\n\n"
                                           "[harness.tasks]\nacme = myplugin:TASKS\n")
    env = {"PYTHONPATH": f"{tmp_path}:{REPO}"}
    models = cli_json("models", "acme*", "--format", "json", env=env)
    assert [m["name"] for m in models] == ["acme-7b"]
    tasks = cli_json("tasks", "acme", "--format", "json", env=env)
    assert [t["name"] for t in tasks] == ["acme_qa"]


def test_listing_commands_do_not_import_heavy_libraries(tmp_path):
    code = ("import sys; from harness.cli import main; main(['runs', '--db', sys.argv[1]]); "
            "main(['models', 'tiny-pythia']); "
            "heavy = [m for m in ('torch', 'transformers', 'lm_eval', 'vllm') if m in sys.modules]; "
            "print(heavy)")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "x.duckdb")], capture_output=True, text=True,
                         cwd=REPO)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_tiny_parameter_counts_are_those_of_the_built_model():
    from safetensors.numpy import load_file

    for name in TINY_TEXT:
        spec = get_model(name)
        tensors = load_file(str(ensure_tiny(spec) / "model.safetensors"))
        assert sum(t.size for t in tensors.values()) == spec.parameters


def test_the_wheel_ships_tasks_and_leaderboards(tmp_path):
    import zipfile

    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(REPO)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    (wheel,) = tmp_path.glob("harness-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "harness/_builtin/tasks/finance/finance_sentiment.yaml" in names
    assert "harness/_builtin/tasks/finance/sentiment_test.jsonl" in names
    assert "harness/_builtin/leaderboards/README.md" in names
    assert "harness/_builtin/leaderboards/llm-2023.yaml" in names
    assert {"harness/report/templates/index.html.j2", "harness/report/templates/site.js"} <= names
    assert "harness/models/data/tiny-bpe.json" in names
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(wheel)],
                   check=True, capture_output=True, timeout=300)
    probe = subprocess.run([sys.executable, "-c", "from harness.resources import tasks_dir; print(tasks_dir())"],
                           capture_output=True, text=True, cwd=tmp_path, env={"PYTHONPATH": str(target)})
    found = probe.stdout.strip()
    assert found.startswith(str(target)) and (Path(found) / "finance" / "_finance.yaml").exists(), probe.stderr
