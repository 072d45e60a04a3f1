"""Typed descriptions of registered models."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Modality = Literal["text", "vision", "segmentation", "video"]
BackendName = Literal["transformers", "vllm", "openai"]


class TinyConfig(BaseModel):
    """How to build an offline twin: a real architecture class with a small config."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    config_class: str = Field(description="transformers config class, e.g. 'LlamaConfig'")
    config: dict = Field(default_factory=dict, description="keyword arguments of the config")
    tokenizer: Literal["gpt-neox", "llama"] | None = Field(default="llama", description="None for vision models")
    processor: dict | None = Field(default=None, description="image processor: {'class': ..., **kwargs}")
    init_std: float = Field(default=0.2, description="spread of the seeded normal initialisation")
    weights_sha256: str | None = Field(default=None, description="recorded hash of the seeded weights")
    revision_steps: list[int] = Field(default_factory=list, description="training steps saved as local revisions "
                                      "``stepN`` (a short run on the memorization corpus; see tiny_training)")


class ModelSpec(BaseModel):
    """One registered model: where its weights are and how to run it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    family: str
    hub_id: str | None = None
    architecture: str = Field(description="transformers model class, e.g. 'GPTNeoXForCausalLM'")
    modality: Modality = "text"
    parameters: int | None = Field(default=None, description="parameter count")
    dtype: str = "bfloat16"
    license: str = "unknown"
    chat_template: str | None = Field(default=None, description="chat format name, None for base models")
    backend: BackendName = "transformers"
    revision: str | None = None
    gated: bool = False
    dpo_reference: str | None = Field(default=None, description="the model a DPO-trained model was trained from "
                                      "(its reference policy): the preference task's default --reference")
    min_gpus: int = Field(default=1, ge=1, description="80 GB GPUs needed in bfloat16: the weights plus a working "
                          "KV cache (vLLM's --tensor-parallel-size defaults to it)")
    tiny: TinyConfig | None = None
    description: str = ""

    def summary(self) -> dict:
        """A JSON-friendly view for listings."""
        return self.model_dump(exclude={"tiny"}) | {"tiny": self.tiny is not None}
