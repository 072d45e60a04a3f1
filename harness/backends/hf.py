"""The transformers backend: causal LMs on CPU or CUDA, batched.

Tokenisation and scoring follow lm-eval's ``hf`` model (``HFLM``) step for step,
so per-sample log-likelihoods agree with it: trailing spaces of a context move
into the continuation, ``context + continuation`` is encoded whole, inputs are
right-padded and the last token dropped. Log-probabilities are computed only at
the scored positions and summed in float64.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator, Sequence
from typing import Any

import torch

from harness.backends import greedy
from harness.backends.base import Arg, BatchResult, GenerationRequest, LoglikelihoodRequest, check_args
from harness.backends.rolling import rolling_loglikelihoods
from harness.backends.tokenization import LmEvalTokenization
from harness.devices import pick_device, pick_dtype
from harness.errors import HarnessError
from harness.models.checkpoint import loading
from harness.models.resolve import ResolvedModel

# Keyword arguments of ``from_pretrained`` a user may pass through --model-args.
_LOAD_ARGS = {"trust_remote_code", "attn_implementation", "low_cpu_mem_usage", "device_map"}


def quantized_loading(quantization: str, device: str, dtype: Any) -> dict[str, Any]:
    """``from_pretrained`` arguments loading the weights in 4-bit NF4 (QLoRA's, double-quantised) or 8-bit."""
    from transformers import BitsAndBytesConfig

    if quantization == "nf4":
        config = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
                                    bnb_4bit_compute_dtype=dtype)
    else:
        config = BitsAndBytesConfig(load_in_8bit=True)
    return {"quantization_config": config, "device_map": {"": device}}


class TransformersBackend:
    """A Hugging Face causal LM answering lm-eval requests."""

    name = "transformers"
    args = {"trust_remote_code": Arg(bool, help="run the checkpoint folder's own Python code"),
            "attn_implementation": Arg(str, choices=("eager", "sdpa", "flash_attention_2", "flex_attention")),
            "low_cpu_mem_usage": Arg(bool),
            "device_map": Arg(str, pattern=r"auto|balanced|balanced_low_0|sequential|cpu|cuda(:\d+)?",
                              hint="auto, balanced, balanced_low_0, sequential, cpu, cuda or cuda:N"),
            "max_length": Arg(int, minimum=2), "add_bos_token": Arg(bool), "prefix_token_id": Arg(int, minimum=0),
            "shared_context": Arg(bool, changes_outputs=False, help="share each context's forward pass")}

    @classmethod
    def planned(cls, model: ResolvedModel, *, device: str, dtype: str, model_args: dict[str, Any]) -> dict[str, Any]:
        """Device, dtype and lm-eval's context length, from the registry and the checkpoint's config files."""
        from harness.models.checkpoint import lm_eval_max_length

        device = pick_device(device)
        torch_dtype = pick_dtype(dtype, device, model.spec.dtype if model.spec else "bfloat16")
        max_length = int(model_args["max_length"]) if "max_length" in model_args else (
            lm_eval_max_length(model.path) if model.path else None)
        return {"device": device, "dtype": str(torch_dtype).removeprefix("torch."), "max_length": max_length}

    def __init__(self, model: ResolvedModel, *, device: str = "auto", dtype: str = "auto",
                 batch_size: int = 8, model_args: dict[str, Any] | None = None, adapter: str | None = None,
                 quantization: str | None = None) -> None:
        from transformers import AutoModelForCausalLM, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        hf_logging.set_verbosity_error()
        args = dict(model_args or {})
        check_args(self.name, self.args, args)
        self.device = pick_device(device)
        self.dtype = pick_dtype(dtype, self.device, model.spec.dtype if model.spec else "bfloat16")
        self.batch_size = batch_size
        self.tokenizer_name = model.path
        self.resolved = model
        load_kwargs = {k: args[k] for k in _LOAD_ARGS & set(args)}
        if quantization is not None:
            load_kwargs |= quantized_loading(quantization, self.device, self.dtype)
        revision = model.revision if model.source == "hub" else None
        with loading(model.path, "tokenizer"):
            self.tokenizer = AutoTokenizer.from_pretrained(model.path, revision=revision,
                                                           trust_remote_code=bool(args.get("trust_remote_code")))
        with loading(model.path, "weights"):
            self.model = AutoModelForCausalLM.from_pretrained(model.path, revision=revision, dtype=self.dtype,
                                                              **load_kwargs)
        if "device_map" not in load_kwargs:
            self.model.to(self.device)
        if adapter is not None:
            from peft import PeftModel

            self.model = PeftModel.from_pretrained(self.model, adapter)
        self.model.eval()
        self.tokens = LmEvalTokenization(self.tokenizer, args.get("add_bos_token"), args.get("prefix_token_id"))
        self.shared_context = bool(args.get("shared_context", True))
        self.max_length = int(args["max_length"]) if "max_length" in args else self._resolve_max_length()
        self.vocab_size = self.model.get_output_embeddings().weight.shape[0]
        if str(batch_size).startswith("auto"):
            self.batch_size = self._largest_batch(int(str(batch_size).partition(":")[2] or 64))

    def _largest_batch(self, most: int) -> int:
        """lm-eval's ``--batch_size auto``: the largest batch of full-length rows, at most ``most``, whose forward
        pass fits in GPU memory (halving from ``most`` on out-of-memory errors, through accelerate)."""
        import sys

        from accelerate.utils import find_executable_batch_size

        print("Detecting largest batch size", file=sys.stderr)

        @find_executable_batch_size(starting_batch_size=most)
        def probe(batch_size: int) -> int:
            with torch.inference_mode():
                self.model(torch.ones((batch_size, self.max_length), dtype=torch.long, device=self.device))
            return batch_size

        size = probe()
        if self.device.startswith("cuda"):
            torch.cuda.empty_cache()
        print(f"Determined largest batch size: {size}", file=sys.stderr)
        return size

    def _resolve_max_length(self) -> int:
        from lm_eval.models.utils import resolve_max_length

        return resolve_max_length(self.model.config, self.tokenizer, default=2048)

    def describe(self) -> dict[str, Any]:
        return {"backend": self.name, "device": self.device, "dtype": str(self.dtype).removeprefix("torch."),
                "max_length": self.max_length, "batch_size": self.batch_size, "shared_context": self.shared_context}

    def apply_chat_template(self, history: list[dict[str, str]], add_generation_prompt: bool = True) -> str:
        if not self.tokenizer.chat_template:
            raise HarnessError(f"model {self.resolved.name!r} has no chat template; drop --apply-chat-template")
        return self.tokenizer.apply_chat_template(history, tokenize=False,
                                                  add_generation_prompt=add_generation_prompt)

    # -- log-likelihood ---------------------------------------------------------------------------
    @torch.inference_mode()
    def _score_tokens(self, items: Sequence[tuple[list[int], list[int]]]) -> list[tuple[float, bool]]:
        """Score one batch of (context tokens, continuation tokens) pairs, one forward pass each."""
        from harness.backends.shared_context import logits_at, token_scores

        inputs, lengths = [], []
        for ctx, cont in items:
            if not cont:
                raise HarnessError("a log-likelihood request has an empty continuation")
            inp = (ctx + cont)[-(self.max_length + 1):][:-1]
            inputs.append(inp)
            lengths.append(len(inp))
        batch = torch.zeros((len(inputs), max(lengths)), dtype=torch.long)
        rows, positions, targets = [], [], []
        for row, (inp, (_, cont)) in enumerate(zip(inputs, items)):
            batch[row, : len(inp)] = torch.tensor(inp, dtype=torch.long)
            rows += [row] * len(cont)
            positions += range(lengths[row] - len(cont), lengths[row])
            targets += cont
        rows_t = torch.tensor(rows, device=self.device)
        # right padding and no attention mask, as lm-eval; the vocabulary projection only where scored
        logits = logits_at(self.model, rows_t, torch.tensor(positions, device=self.device),
                           input_ids=batch.to(self.device))
        token_lp, hit = token_scores(logits, torch.tensor(targets, device=self.device))
        totals = torch.zeros(len(items), dtype=torch.float64, device=self.device).index_add_(0, rows_t, token_lp)
        misses = torch.zeros(len(items), dtype=torch.long, device=self.device).index_add_(0, rows_t, (~hit).long())
        return [(float(t), bool(m == 0)) for t, m in zip(totals.tolist(), misses.tolist())]

    def _batched(self, keyed: list[tuple[int, list[int], list[int]]]) -> Iterator[tuple[list[int], list]]:
        """Longest first (OOMs surface at once, padding is small), then batches of ``batch_size``."""
        keyed = sorted(keyed, key=lambda item: (-len(item[1]) - len(item[2]), tuple(item[1] + item[2])))
        for start in range(0, len(keyed), self.batch_size):
            chunk = keyed[start: start + self.batch_size]
            yield [pos for pos, _, _ in chunk], self._score_tokens([(c, x) for _, c, x in chunk])

    def loglikelihood(self, requests: Sequence[LoglikelihoodRequest]) -> Iterator[BatchResult]:
        encoded = [(pos, *self.tokens.encode_pair(ctx, cont)) for pos, (ctx, cont) in enumerate(requests)]
        if not self.shared_context:
            yield from self._batched(encoded)
            return
        plain, groups = [], defaultdict(list)
        for pos, ctx, cont in encoded:
            if not cont or len(ctx) + len(cont) > self.max_length + 1:  # empty or truncated: lm-eval's path
                plain.append((pos, ctx, cont))
            else:
                groups[tuple(ctx)].append((pos, cont))
        yield from self._batched(plain)
        from harness.backends.shared_context import packs

        if packs(self.model):
            yield from self._packed(list(groups.items()))
        else:
            yield from self._shared(sorted(groups.items(), key=lambda item: (-len(item[0]), item[0])))

    def _packed(self, groups: list) -> Iterator[BatchResult]:
        """Batches of ``batch_size`` contexts, longest rows first, each context with all of its continuations in
        one row; a batch whose contexts each have one continuation takes the per-pair path (nothing to share)."""
        from harness.backends.shared_context import score_packed

        def row_length(group: tuple) -> int:
            ctx, conts = group
            return len(ctx) + sum(len(cont) - 1 for _, cont in conts)

        groups = sorted(groups, key=lambda group: (-row_length(group), group[0]))
        for start in range(0, len(groups), self.batch_size):
            batch = groups[start: start + self.batch_size]
            if all(len(conts) == 1 for _, conts in batch):
                pairs = [(list(ctx), cont) for ctx, conts in batch for _, cont in conts]
                yield [pos for _, conts in batch for pos, _ in conts], self._score_tokens(pairs)
                continue
            scored = score_packed(self.model, batch, self.device)
            yield [pos for pos, _, _ in scored], [(ll, greedy) for _, ll, greedy in scored]

    def _shared(self, groups: list) -> Iterator[BatchResult]:
        """Batches of whole groups holding about ``batch_size`` continuations each (models ``score_packed``
        cannot run)."""
        from harness.backends.shared_context import score_groups

        start = 0
        while start < len(groups):
            end, size = start, 0
            while end < len(groups) and (end == start or size + len(groups[end][1]) <= self.batch_size):
                size += len(groups[end][1])
                end += 1
            scored = score_groups(self.model, groups[start:end], self.device)
            yield [pos for pos, _, _ in scored], [(ll, greedy) for _, ll, greedy in scored]
            start = end

    def loglikelihood_rolling(self, texts: Sequence[str]) -> Iterator[BatchResult]:
        yield from rolling_loglikelihoods(self.tokens, texts, self.max_length, self._batched)

    # -- generation -------------------------------------------------------------------------------
    def generate_until(self, requests: Sequence[GenerationRequest]) -> Iterator[BatchResult]:
        from lm_eval.models.utils import handle_stop_sequences, normalize_gen_kwargs

        groups: dict[str, list[int]] = defaultdict(list)
        for pos, (_, kwargs) in enumerate(requests):
            groups[json.dumps(kwargs, sort_keys=True, default=str)].append(pos)
        eos = self.tokenizer.decode(self.tokens.eot_token_id, skip_special_tokens=False)
        for positions in groups.values():
            kwargs = normalize_gen_kwargs(requests[positions[0]][1], 256)
            until = handle_stop_sequences(kwargs.pop("until", None), eos=eos)
            max_gen = kwargs.pop("max_gen_toks")
            kwargs["temperature"] = kwargs.get("temperature", 0.0)
            if kwargs.get("do_sample") is False and kwargs["temperature"] == 0.0:
                kwargs.pop("temperature")
            order = sorted(positions, key=lambda p: (-len(self.tokens.tok_encode(requests[p][0])), requests[p][0]))
            contexts = [requests[p][0] for p in order]
            if greedy.applies(self.model, kwargs):
                for done, texts in self._greedy(contexts, until, max_gen):
                    yield [order[i] for i in done], texts
                continue
            for start in range(0, len(order), self.batch_size):
                chunk = slice(start, start + self.batch_size)
                yield order[chunk], self._generate(contexts[chunk], until, max_gen, dict(kwargs))

    def _greedy(self, contexts: list[str], until: list[str], max_gen: int) -> Iterator[tuple[list[int], list[str]]]:
        """Greedy texts of ``contexts`` as rows finish (see ``greedy``): their indices and texts."""
        eos = greedy.eos_ids(self.model)
        rows = [greedy.RowText(self.tokenizer, until, eos, max_gen) for _ in contexts]
        decoder = greedy.Decoder(self.model, lambda texts: self._left_padded(texts, max_gen), self.batch_size,
                                 self.device)
        for done in decoder.run(contexts, rows):
            yield done, [self._text(rows[i].tokens, until) for i in done]

    @torch.inference_mode()
    def _generate(self, contexts: list[str], until: list[str], max_gen: int, kwargs: dict) -> list[str]:
        """transformers' ``generate`` on one batch with lm-eval's stop criteria (sampling, penalties, beams)."""
        from lm_eval.models.utils_hf import stop_sequences_criteria

        ids, mask = self._left_padded(contexts, max_gen)
        stopping = stop_sequences_criteria(self.tokenizer, until, ids.shape[1], ids.shape[0])
        out = self.model.generate(input_ids=ids.to(self.device), attention_mask=mask.to(self.device),
                                  max_length=ids.shape[1] + max_gen, stopping_criteria=stopping,
                                  pad_token_id=self.tokenizer.pad_token_id, use_cache=True, **kwargs)
        return [self._text(row[ids.shape[1]:], until) for row in out.tolist()]

    def _text(self, tokens: list[int], until: list[str]) -> str:
        from lm_eval.models.utils import postprocess_generated_text

        return postprocess_generated_text(generation=self.tokenizer.decode(tokens, skip_special_tokens=True),
                                          stop=until, think_end_token=None)

    def _left_padded(self, contexts: list[str], max_gen: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Token ids and attention mask of the prompts, padded on the left and cut to leave ``max_gen`` tokens."""
        max_ctx = self.max_length - max_gen
        if max_ctx <= 0:
            raise HarnessError(f"max_gen_toks {max_gen} leaves no room for the prompt in {self.max_length} tokens")
        old_side = self.tokenizer.padding_side
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        bos = self.tokenizer.bos_token
        special = {"add_special_tokens": False} if bos and contexts[0].startswith(bos) else (
            {"add_special_tokens": bool(self.tokens.add_bos_token)} if self.tokens.add_bos_token is not None else {})
        enc = self.tokenizer(contexts, padding="longest", return_tensors="pt", **special)
        self.tokenizer.padding_side = old_side
        return enc["input_ids"][:, -max_ctx:], enc["attention_mask"][:, -max_ctx:]

    def close(self) -> None:
        self.model = None
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
