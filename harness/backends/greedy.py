"""Greedy generation in which finished rows leave the batch and waiting prompts take their places.

``model.generate`` runs every row of a batch until the last one stops, and lm-eval's stop-sequence criteria stop
a row only when every row has met the same sequence, so a row that has written its stop sequence goes on
generating text that is cut away afterwards. Here a row leaves the batch, with its rows of the KV cache, as soon
as its text is final (a stop sequence, an end-of-sequence token or ``max_gen`` tokens), and once a quarter of the
batch is free the next prompts (in lm-eval's order, longest first) are prefilled and joined to it, left-padded to
the running rows' length. Each step is the forward pass ``generate`` makes (positions from the attention mask, the
model's own cache, logits at the last position only), so a text can differ from ``generate``'s only where another
batch composition changes the rounding at a near-tie of the greedy choice. Caches other than transformers' plain
dynamic one (sliding windows, for example) are not joined: their rows still leave, and the next batch starts when
the last row has finished.
"""

from __future__ import annotations

import inspect
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

# Settings of a generation config that change nothing in greedy decoding (sampling ones are unused without
# ``do_sample``); any other setting (a repetition penalty, forced or suppressed tokens, beams) is left to generate.
_NEUTRAL_CONFIG = {"bos_token_id", "eos_token_id", "pad_token_id", "decoder_start_token_id", "do_sample",
                   "temperature", "top_p", "top_k", "min_p", "typical_p", "max_length", "max_new_tokens",
                   "use_cache", "transformers_version", "_from_model_config", "cache_implementation",
                   "output_attentions", "output_hidden_states", "output_scores", "output_logits",
                   "return_dict_in_generate"}


def applies(model: Any, kwargs: dict[str, Any]) -> bool:
    """Whether this loop gives what ``generate`` would: plain greedy decoding of a decoder-only architecture that
    transformers ships (whose cache it knows; a peft adapter may wrap it), with a generation config that adds no
    logits processing."""
    config = getattr(model, "generation_config", None)
    if kwargs != {"do_sample": False} or config is None or model.config.is_encoder_decoder:
        return False
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    if not type(base).__module__.startswith("transformers.models."):  # remote code may keep a legacy cache
        return False
    if config.cache_implementation not in (None, "dynamic") or (getattr(config, "num_beams", None) or 1) != 1:
        return False
    parameters = inspect.signature(model.forward).parameters
    takes_kwargs = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())
    if not takes_kwargs and not {"position_ids", "past_key_values", "attention_mask"} <= set(parameters):
        return False
    return set(config.to_diff_dict()) <= _NEUTRAL_CONFIG


def eos_ids(model: Any) -> set[int]:
    """The token ids that end a row: the generation config's, as ``generate`` takes them (none if it has none)."""
    eos = model.generation_config.eos_token_id
    return set() if eos is None else set([eos] if isinstance(eos, int) else eos)


class RowText:
    """A row's generated tokens and whether its cut text can no longer change."""

    def __init__(self, tokenizer: Any, until: Sequence[str], eos: set[int], max_gen: int) -> None:
        self.tokenizer, self.eos, self.max_gen = tokenizer, eos, max_gen
        self.until = [term for term in until if term]
        self.longest = max((len(term) for term in self.until), default=0)
        self.tokens: list[int] = []

    def add(self, token: int) -> bool:
        """Append a token; True once the row is finished: at ``max_gen`` tokens, at an end-of-sequence token, or
        when its text holds a stop sequence and runs far enough past it that no stop sequence starting earlier can
        still complete (the text is cut at the first one, as lm-eval's ``postprocess_generated_text`` does)."""
        self.tokens.append(token)
        if token in self.eos or len(self.tokens) >= self.max_gen:
            return True
        if not self.until:
            return False
        text = self.tokenizer.decode(self.tokens, skip_special_tokens=True)
        cut = min((at for at in (text.find(term) for term in self.until) if at >= 0), default=-1)
        return cut >= 0 and len(text) - cut >= self.longest - 1


@dataclass
class _Running:
    """Rows decoding together: which prompts, their KV cache, attention mask, last positions and next logits."""

    rows: list[int]
    cache: Any
    mask: torch.Tensor
    last: torch.Tensor
    logits: torch.Tensor

    def keep(self, kept: list[int]) -> None:
        index = torch.tensor(kept, device=self.mask.device)
        self.cache.batch_select_indices(index)
        self.rows = [self.rows[i] for i in kept]
        self.mask, self.last, self.logits = self.mask[index], self.last[index], self.logits[index]
        self._trim()

    def join(self, other: _Running) -> None:
        """Append ``other``'s rows, left-padding the shorter side's cache and mask to a common length."""
        length = max(self.mask.shape[1], other.mask.shape[1])
        for mine, theirs in zip(self.cache.layers, other.cache.layers):
            for name in ("keys", "values"):
                parts = [getattr(layer, name) for layer in (mine, theirs)]
                setattr(mine, name, torch.cat([F.pad(t, (0, 0, length - t.shape[-2], 0)) for t in parts]))
        self.mask = torch.cat([F.pad(m, (length - m.shape[1], 0)) for m in (self.mask, other.mask)])
        self.rows += other.rows
        self.last, self.logits = torch.cat([self.last, other.last]), torch.cat([self.logits, other.logits])
        self._trim()

    def _trim(self) -> None:
        """Drop leading columns that are padding in every row."""
        start = int(self.mask.any(dim=0).long().argmax())
        if start and _joinable(self.cache):
            self.mask = self.mask[:, start:]
            for layer in self.cache.layers:
                layer.keys, layer.values = layer.keys[..., start:, :], layer.values[..., start:, :]


def _joinable(cache: Any) -> bool:
    from transformers.cache_utils import DynamicCache, DynamicLayer

    return type(cache) is DynamicCache and all(type(layer) is DynamicLayer for layer in cache.layers)


class Decoder:
    """Greedy decoding of many prompts, ``capacity`` rows at a time."""

    def __init__(self, model: Any, encode: Callable[[list[str]], tuple[torch.Tensor, torch.Tensor]],
                 capacity: int, device: Any) -> None:
        self.model, self.encode, self.capacity, self.device = model, encode, capacity, device
        keeps_logits = "logits_to_keep" in inspect.signature(model.forward).parameters
        self.extra = {"logits_to_keep": 1} if keeps_logits else {}

    @torch.inference_mode()
    def run(self, prompts: list[str], rows: list[RowText]) -> Iterator[list[int]]:
        """Fill ``rows`` (one per prompt, in order); yield the indices of rows as they finish."""
        waiting, running = deque(range(len(prompts))), None
        while waiting or running is not None:
            free = self.capacity - (0 if running is None else len(running.rows))
            if waiting and (running is None or (free >= max(1, self.capacity // 4) and _joinable(running.cache))):
                fresh = self._prefill([waiting.popleft() for _ in range(min(free, len(waiting)))], prompts)
                if running is None:
                    running = fresh
                else:
                    running.join(fresh)
            tokens = running.logits.argmax(dim=-1)
            finished = [rows[row].add(token) for row, token in zip(running.rows, tokens.tolist())]
            if any(finished):
                yield [row for row, done in zip(running.rows, finished) if done]
                kept = [i for i, done in enumerate(finished) if not done]
                if not kept:
                    running = None
                    continue
                running.keep(kept)
                tokens = tokens[torch.tensor(kept, device=tokens.device)]
            self._step(running, tokens)

    def _prefill(self, chosen: list[int], prompts: list[str]) -> _Running:
        ids, mask = (t.to(self.device) for t in self.encode([prompts[i] for i in chosen]))
        positions = (mask.long().cumsum(-1) - 1).masked_fill(mask == 0, 0)
        out = self.model(input_ids=ids, attention_mask=mask, position_ids=positions, use_cache=True, **self.extra)
        return _Running(chosen, out.past_key_values, mask, positions[:, -1:], out.logits[:, -1, :].float())

    def _step(self, running: _Running, tokens: torch.Tensor) -> None:
        running.mask = torch.cat([running.mask, running.mask.new_ones((len(running.rows), 1))], dim=-1)
        running.last = running.last + 1
        out = self.model(input_ids=tokens[:, None], attention_mask=running.mask, position_ids=running.last,
                         past_key_values=running.cache, use_cache=True, **self.extra)
        running.logits = out.logits[:, -1, :].float()
