"""What identifies a run's outputs: the settings hash and the chat template it renders prompts with (read from
the tokenizer files, no model loaded)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from harness.errors import HarnessError

# Settings that do not change outputs are recorded but left out of the settings hash.
UNHASHED_SETTINGS = frozenset({"batch_size", "device", "data_parallel_size", "request_hash"})
_CHAT_PROBE = [{"role": "user", "content": "Q1"}, {"role": "assistant", "content": "A1"},
               {"role": "user", "content": "Q2"}]


def settings_hash(settings: dict[str, Any]) -> str:
    """Hash of the settings that can change outputs."""
    hashed = {k: v for k, v in settings.items() if k not in UNHASHED_SETTINGS}
    return hashlib.sha256(json.dumps(hashed, sort_keys=True, default=str).encode()).hexdigest()


class PromptFormatter:
    """What lm-eval needs to build a task's prompts: the tokenizer's name and, when prompts use it, the model's
    chat template. The tokenizer is read only when a chat template is asked for."""

    def __init__(self, model_name: str, path: str, backend: str, trust_remote_code: bool = False) -> None:
        self.model_name, self.path, self.backend = model_name, path, backend
        self.tokenizer_name = path or model_name
        self.trust_remote_code = trust_remote_code
        self._tokenizer: Any = None

    @property
    def tokenizer(self) -> Any:
        if self._tokenizer is None and self.path:
            from transformers import AutoTokenizer

            self._tokenizer = AutoTokenizer.from_pretrained(self.path, trust_remote_code=self.trust_remote_code)
        return self._tokenizer

    @property
    def chat_template(self) -> str | None:
        return getattr(self.tokenizer, "chat_template", None)

    def apply_chat_template(self, history: list[dict[str, str]], add_generation_prompt: bool = True) -> str:
        """Render a chat history as the backend will (one line when there is no template)."""
        if self.tokenizer is None or not self.tokenizer.chat_template:
            if self.backend == "openai":
                raise HarnessError(f"no local chat template for {self.model_name!r}; use --model-args api=chat "
                                   "instead")
            raise HarnessError(f"model {self.model_name!r} has no chat template; drop --apply-chat-template")
        return self.tokenizer.apply_chat_template(history, tokenize=False, add_generation_prompt=add_generation_prompt)

    def template_hash(self) -> str:
        """Hash of the chat template rendered on a fixed conversation (part of the run's model fingerprint)."""
        return hashlib.sha256(self.apply_chat_template(_CHAT_PROBE).encode()).hexdigest()[:16]
