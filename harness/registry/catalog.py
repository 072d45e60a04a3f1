"""The built-in model catalog: real checkpoints and their offline tiny twins."""

from __future__ import annotations

from harness.registry.specs import ModelSpec, TinyConfig

_PYTHIA_PARAMS = {
    "70m": 70_426_624,
    "160m": 162_322_944,
    "410m": 405_334_016,
    "1b": 1_011_781_632,
    "1.4b": 1_414_647_808,
    "2.8b": 2_775_208_960,
    "6.9b": 6_857_302_016,
    "12b": 11_846_072_320,
}
_LLAMA2_PARAMS = {"7b": 6_738_415_616, "13b": 13_015_864_320, "70b": 68_976_648_192}


def _pythia() -> list[ModelSpec]:
    specs = []
    for size, params in _PYTHIA_PARAMS.items():
        for suffix in ("", "-deduped"):
            specs.append(
                ModelSpec(
                    name=f"pythia-{size}{suffix}",
                    family="pythia",
                    hub_id=f"EleutherAI/pythia-{size}{suffix}",
                    architecture="GPTNeoXForCausalLM",
                    parameters=params,
                    dtype="float16",
                    license="Apache-2.0",
                    backend="vllm",
                    description="Pythia suite; training checkpoints via --revision stepN",
                )
            )
    return specs


def _llama2() -> list[ModelSpec]:
    specs = []
    for size, params in _LLAMA2_PARAMS.items():
        for chat in (False, True):
            specs.append(
                ModelSpec(
                    name=f"llama-2-{size}{'-chat' if chat else ''}",
                    family="llama-2",
                    hub_id=f"meta-llama/Llama-2-{size}{'-chat' if chat else ''}-hf",
                    architecture="LlamaForCausalLM",
                    parameters=params,
                    dtype="float16",
                    license="llama2",
                    chat_template="llama-2-chat" if chat else None,
                    backend="vllm",
                    gated=True,
                    min_gpus=2 if size == "70b" else 1,  # 138 GB of bf16 weights
                )
            )
    return specs


def _text(name: str, family: str, hub_id: str, arch: str, params: int, license: str,
          chat: str | None = None, description: str = "", min_gpus: int = 1,
          dpo_reference: str | None = None) -> ModelSpec:
    return ModelSpec(name=name, family=family, hub_id=hub_id, architecture=arch, parameters=params,
                     dtype="bfloat16", license=license, chat_template=chat, backend="vllm",
                     description=description, min_gpus=min_gpus, dpo_reference=dpo_reference)


def _mistral_family() -> list[ModelSpec]:
    return [
        _text("mistral-7b", "mistral", "mistralai/Mistral-7B-v0.1", "MistralForCausalLM",
              7_241_732_096, "Apache-2.0"),
        _text("mistral-7b-instruct", "mistral", "mistralai/Mistral-7B-Instruct-v0.1",
              "MistralForCausalLM", 7_241_732_096, "Apache-2.0", chat="mistral-instruct"),
        # 93 GB of bf16 weights: two 80 GB GPUs
        _text("mixtral-8x7b", "mixtral", "mistralai/Mixtral-8x7B-v0.1", "MixtralForCausalLM",
              46_702_792_704, "Apache-2.0", min_gpus=2),
        _text("mixtral-8x7b-instruct", "mixtral", "mistralai/Mixtral-8x7B-Instruct-v0.1",
              "MixtralForCausalLM", 46_702_792_704, "Apache-2.0", chat="mistral-instruct", min_gpus=2),
    ]


def _students() -> list[ModelSpec]:
    return [
        _text("orca-2-7b", "orca-2", "microsoft/Orca-2-7b", "LlamaForCausalLM", 6_738_440_192,
              "microsoft-research-license", chat="chatml", description="LLaMA-2 student of GPT-4"),
        _text("orca-2-13b", "orca-2", "microsoft/Orca-2-13b", "LlamaForCausalLM", 13_015_895_040,
              "microsoft-research-license", chat="chatml", description="LLaMA-2 student of GPT-4"),
        _text("vicuna-7b", "vicuna", "lmsys/vicuna-7b-v1.5", "LlamaForCausalLM", 6_738_415_616,
              "llama2", chat="vicuna", description="imitation model fine-tuned on ShareGPT"),
        *(_text(name, "zephyr", "HuggingFaceH4/zephyr-7b-beta", "MistralForCausalLM", 7_241_732_096, "MIT",
                chat="zephyr", description="distilled DPO student of Mistral-7B", dpo_reference="mistral-7b-sft-beta")
          for name in ("zephyr-7b-beta", "zephyr-7b")),  # zephyr-7b: the first name, kept
        _text("mistral-7b-sft-beta", "mistral", "HuggingFaceH4/mistral-7b-sft-beta", "MistralForCausalLM",
              7_241_732_096, "MIT", chat="zephyr", description="the SFT model zephyr-7b-beta was DPO-trained from"),
    ]


def _vision() -> list[ModelSpec]:
    def spec(name: str, family: str, hub_id: str, arch: str, params: int, modality: str = "vision",
             license: str = "Apache-2.0") -> ModelSpec:
        return ModelSpec(name=name, family=family, hub_id=hub_id, architecture=arch,
                         modality=modality, parameters=params, dtype="float32", license=license)

    return [
        spec("resnet-50", "resnet", "microsoft/resnet-50", "ResNetForImageClassification", 25_557_032),
        spec("convnext-tiny", "convnext", "facebook/convnext-tiny-224", "ConvNextForImageClassification",
             28_589_128),
        spec("convnext-base", "convnext", "facebook/convnext-base-224", "ConvNextForImageClassification",
             88_591_464),
        spec("vit-base", "vit", "google/vit-base-patch16-224", "ViTForImageClassification", 86_567_656),
        spec("vit-large", "vit", "google/vit-large-patch16-224", "ViTForImageClassification", 304_326_632),
        spec("sam-vit-b", "sam", "facebook/sam-vit-base", "SamModel", 93_735_472, "segmentation"),
        spec("sam-vit-l", "sam", "facebook/sam-vit-large", "SamModel", 312_343_088, "segmentation"),
        spec("sam-vit-h", "sam", "facebook/sam-vit-huge", "SamModel", 641_090_864, "segmentation"),
        ModelSpec(name="modelscope-t2v", family="video-ldm", hub_id="ali-vilab/text-to-video-ms-1.7b",
                  architecture="TextToVideoSDPipeline", modality="video", dtype="float16",
                  license="CC-BY-NC-4.0", description="text-to-video latent diffusion (diffusers)"),
    ]


_TINY_TEXT = dict(hidden_size=128, num_hidden_layers=2, num_attention_heads=2,
                  max_position_embeddings=2048, vocab_size=1024, tie_word_embeddings=False)
_TINY_LLAMA = _TINY_TEXT | dict(intermediate_size=256, num_key_value_heads=2, bos_token_id=1,
                                eos_token_id=2)
_TINY_MISTRAL = _TINY_LLAMA | dict(num_key_value_heads=1, sliding_window=64)
_TINY_MIXTRAL = _TINY_LLAMA | dict(num_key_value_heads=1, num_local_experts=4, num_experts_per_tok=2)
_TINY_PYTHIA = _TINY_TEXT | dict(intermediate_size=512, rotary_pct=0.25, bos_token_id=0,
                                 eos_token_id=0, use_parallel_residual=True)


# Hashes of the seeded weights (names, shapes, bytes); a build that differs is refused.
TINY_WEIGHTS_SHA256 = {
    "tiny-pythia": "77ba8217e4011d216b3ceb5fc1380d2f32a499fad485fe7defb58f492ed7da47",
    "tiny-llama-2": "aadcd6aa67f5f0ce6620d15444592d1ee1b9e6cd087b75bf15f602ec3cb83e67",
    "tiny-llama-2-chat": "c71b15c09217c45020e51c302d1c724d27587d68320a1f1326a86696934b6cc9",
    "tiny-mistral": "a2c9359983df03ca8a855055820f69e6863565d0b0da432052a0327dd56ceb43",
    "tiny-mistral-instruct": "5ef8af85a19955fbab1f49c25e14d4bdd1d17182d1c72c059d5b1f0b70797767",
    "tiny-mixtral": "45674c034fd3610e2691895df8b4ea04dfed7920c748f6d9682e92571de00fef",
    "tiny-orca-2": "6c83b7cf4b9fcef4086659cca6d01af7777d1fe7d194229ef7c41eae444b5296",
    "tiny-vicuna": "0ffa323ca6c44fed0db4ea51fce51311f19ded5e813b204224702de427c2541e",
    "tiny-zephyr": "dd9f01220c8d3b379ae8ce3e99fb9e81982d6206e56f15402fca51a553fe7623",
    "tiny-resnet": "cfb6478e3e8d140d1b922d0cd31bb324cb93e8e1cbb851cb81cb559398510b3f",
    "tiny-convnext": "ab6d8c483a06901ffe141b15cfbf3b77d7a313097798637a485dac0389cb2aef",
    "tiny-vit": "39f7eceb4325003367ee40e3a2048c25c64acc57a961cd1db78562fa658c866c",
    "tiny-sam": "8e2add27be4b298aff7cfaafbbda945f535123efeb4f9b35b61cedea41d1b550",
    "tiny-video-ldm": "d48d9534500af8c8982b380ad79442ff0afa72bf804292faa0cfd54784786ca1",
}


_IMAGENET_LABELS = dict(num_labels=1000)
_CONVNET_PROCESSOR = {"class": "ConvNextImageProcessorPil", "size": {"shortest_edge": 32}, "crop_pct": 0.875}
_TINY_VISION = {
    "tiny-resnet": ("resnet", "ResNetForImageClassification", "ResNetConfig", "resnet-50",
                    _IMAGENET_LABELS | dict(embedding_size=16, hidden_sizes=[16, 32], depths=[1, 1],
                                            layer_type="basic"), _CONVNET_PROCESSOR),
    "tiny-convnext": ("convnext", "ConvNextForImageClassification", "ConvNextConfig", "convnext-tiny",
                      _IMAGENET_LABELS | dict(patch_size=4, num_stages=2, hidden_sizes=[16, 32], depths=[1, 1]),
                      _CONVNET_PROCESSOR),
    "tiny-sam": ("sam", "SamModel", "SamConfig", "sam-vit-b", dict(
        vision_config=dict(hidden_size=32, output_channels=32, num_hidden_layers=2, num_attention_heads=2,
                           image_size=64, patch_size=8, window_size=4, global_attn_indexes=[1], mlp_dim=64,
                           num_pos_feats=16),
        prompt_encoder_config=dict(hidden_size=32, image_size=64, patch_size=8, mask_input_channels=4),
        mask_decoder_config=dict(hidden_size=32, mlp_dim=64, num_hidden_layers=2, num_attention_heads=2,
                                 iou_head_hidden_dim=32)),
        {"class": "SamImageProcessorPil", "size": {"longest_edge": 64}, "pad_size": {"height": 64, "width": 64}}),
    "tiny-vit": ("vit", "ViTForImageClassification", "ViTConfig", "vit-base",
                 _IMAGENET_LABELS | dict(image_size=32, patch_size=8, hidden_size=64, num_hidden_layers=2,
                                         num_attention_heads=2, intermediate_size=128),
                 {"class": "ViTImageProcessorPil", "size": {"height": 32, "width": 32}}),
}


TINY_PARAMETERS = {"tiny-pythia": 658_944, "tiny-llama-2": 590_464, "tiny-llama-2-chat": 590_464,
                   "tiny-mistral": 557_696, "tiny-mistral-instruct": 557_696, "tiny-mixtral": 1_148_544,
                   "tiny-orca-2": 590_464, "tiny-vicuna": 590_464, "tiny-zephyr": 557_696,
                   "tiny-resnet": 54_584, "tiny-convnext": 49_016, "tiny-vit": 145_576, "tiny-sam": 77_411,
                   "tiny-video-ldm": 1_975_595}


def _tiny(name: str, family: str, arch: str, config_class: str, config: dict, tokenizer: str,
          chat: str | None, twin_of: str, revision_steps: tuple[int, ...] = (),
          dpo_reference: str | None = None) -> ModelSpec:
    revisions = f"; revisions {', '.join(f'step{n}' for n in revision_steps)}" if revision_steps else ""
    return ModelSpec(
        name=name, family=family, architecture=arch, parameters=TINY_PARAMETERS[name], dtype="float32",
        license="Apache-2.0", chat_template=chat, backend="transformers", dpo_reference=dpo_reference,
        tiny=TinyConfig(config_class=config_class, config=config, tokenizer=tokenizer,
                        weights_sha256=TINY_WEIGHTS_SHA256[name], revision_steps=list(revision_steps)),
        description=f"offline twin of {twin_of}: seeded random weights, real architecture{revisions}",
    )


def _tiny_text() -> list[ModelSpec]:
    return [
        _tiny("tiny-pythia", "pythia", "GPTNeoXForCausalLM", "GPTNeoXConfig", _TINY_PYTHIA,
              "gpt-neox", None, "pythia-70m", revision_steps=(0, 16, 32, 64, 128)),
        _tiny("tiny-llama-2", "llama-2", "LlamaForCausalLM", "LlamaConfig", _TINY_LLAMA, "llama",
              None, "llama-2-7b"),
        _tiny("tiny-llama-2-chat", "llama-2", "LlamaForCausalLM", "LlamaConfig", _TINY_LLAMA, "llama",
              "llama-2-chat", "llama-2-7b-chat"),
        _tiny("tiny-mistral", "mistral", "MistralForCausalLM", "MistralConfig", _TINY_MISTRAL, "llama",
              None, "mistral-7b"),
        _tiny("tiny-mistral-instruct", "mistral", "MistralForCausalLM", "MistralConfig", _TINY_MISTRAL,
              "llama", "mistral-instruct", "mistral-7b-instruct"),
        _tiny("tiny-mixtral", "mixtral", "MixtralForCausalLM", "MixtralConfig", _TINY_MIXTRAL, "llama",
              None, "mixtral-8x7b"),
        _tiny("tiny-orca-2", "orca-2", "LlamaForCausalLM", "LlamaConfig", _TINY_LLAMA, "llama",
              "chatml", "orca-2-7b"),
        _tiny("tiny-vicuna", "vicuna", "LlamaForCausalLM", "LlamaConfig", _TINY_LLAMA, "llama",
              "vicuna", "vicuna-7b"),
        _tiny("tiny-zephyr", "zephyr", "MistralForCausalLM", "MistralConfig", _TINY_MISTRAL, "llama",
              "zephyr", "zephyr-7b", dpo_reference="tiny-mistral"),
    ]


def _tiny_vision() -> list[ModelSpec]:
    return [ModelSpec(name=name, family=family, architecture=arch, parameters=TINY_PARAMETERS[name],
                      modality="segmentation" if arch == "SamModel" else "vision",
                      dtype="float32", license="Apache-2.0", backend="transformers",
                      tiny=TinyConfig(config_class=config_class, config=config, tokenizer=None, processor=processor,
                                      weights_sha256=TINY_WEIGHTS_SHA256[name]),
                      description=f"offline twin of {twin_of}: seeded random weights, real architecture")
            for name, (family, arch, config_class, twin_of, config, processor) in _TINY_VISION.items()]


_TINY_VIDEO_LDM = dict(
    unet=dict(sample_size=16, in_channels=4, out_channels=4, down_block_types=["CrossAttnDownBlock3D", "DownBlock3D"],
              up_block_types=["UpBlock3D", "CrossAttnUpBlock3D"], block_out_channels=[32, 64], layers_per_block=1,
              cross_attention_dim=32, attention_head_dim=4, norm_num_groups=32),
    vae=dict(in_channels=3, out_channels=3, down_block_types=["DownEncoderBlock2D", "DownEncoderBlock2D"],
             up_block_types=["UpDecoderBlock2D", "UpDecoderBlock2D"], block_out_channels=[32, 64], latent_channels=4,
             norm_num_groups=32, sample_size=32),
    text_encoder=dict(vocab_size=1024, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
                      max_position_embeddings=77, projection_dim=32, bos_token_id=0, eos_token_id=0, pad_token_id=0),
    scheduler=dict(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", clip_sample=False),
)


def _tiny_video() -> list[ModelSpec]:
    return [ModelSpec(name="tiny-video-ldm", family="video-ldm", architecture="TextToVideoSDPipeline", modality="video",
                      parameters=TINY_PARAMETERS["tiny-video-ldm"], dtype="float32", license="Apache-2.0",
                      tiny=TinyConfig(config_class="TextToVideoSDPipeline", config=_TINY_VIDEO_LDM, tokenizer=None,
                                      init_std=0.05, weights_sha256=TINY_WEIGHTS_SHA256["tiny-video-ldm"]),
                      description="offline twin of modelscope-t2v: a seeded random text-to-video LDM, real classes")]


def builtin_models() -> list[ModelSpec]:
    """Every model the harness ships a registry entry for."""
    return (_pythia() + _llama2() + _mistral_family() + _students() + _vision() + _tiny_text() + _tiny_vision()
            + _tiny_video())
