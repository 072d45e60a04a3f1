"""The harness's transformers backend against lm-eval's ``hf`` model (HFLM), with the limit of what is possible.

For each pinned shape (seeded random weights, spread 0.02; the committed 8,000-token byte-level BPE
``benchmarks/data/bench-bpe-8000.json``) and workload, in one process, one after the other:
lm-eval's ``HFLM``, the harness's ``TransformersBackend`` (shared contexts, the default) and, for multiple
choice, the backend's per-pair path (``shared_context=False``). All three answer the SAME requests, built as
lm-eval builds them ((context, " " + choice) pairs; (context, generation kwargs)); the script checks the answers
against lm-eval's (per request |ΔLL| <= tolerance and the same argmax per document; near-ties, where lm-eval's
two best choices are closer than the tolerance, are counted; generated texts identical, differences counted with
the greedy margin at the first differing token). Evaluation-only times exclude imports and model loading; one
untimed warm-up batch runs first on each side; with ``--repeats N`` the best of N is kept.

Ideal speed-up (multiple choice), in multiply-adds from the shape and the token counts. Per token a layer costs
2h² + 2h·kv (attention projections; 4h² without grouped KV heads) plus 3h·i (gated MLP; 2h·i for GPT-NeoX;
Mixtral: top-k · 3h·i_expert + the router h·E); the vocabulary projection costs h·V. Attention scores (2h per
token and attended position) and norms are not counted. lm-eval (``HFLM._loglikelihood_tokens`` with its
``Collator(group_by="contexts")``): one pass per distinct ``context + continuation[:-1]`` (choices differing only
in their last token share one), over ``(context + continuation)[-(max_length+1):][:-1]``, with the projection at
every position. Ideal: each distinct context once, each continuation once without its last token (whose output
is never needed), the projection only at scored positions. Ideal speed-up = lm-eval / ideal; achieved =
lm-eval seconds / harness seconds; the table prints achieved ÷ ideal. The ideal speed-up with lm-eval's right
padding counted (batches of length-sorted passes) is printed beside it, as is the per-pair limit (lm-eval's passes
with the projection only at scored positions: the most ``shared_context=False`` can reach).

Whole process: ``harness run`` (the CLI, a fresh DuckDB) and lm-eval's ``simple_evaluate`` (with
``TaskManager(include_path=..., include_defaults=False)``: lm-eval at its fastest, without indexing its 14.7k
built-in tasks as its CLI does) each run in a fresh process on the same task YAML (``dataset_path: json``, local
JSONL). Time before the first request: ``benchmarks/first_request.py`` starts each program in a process whose
import hook wraps the request methods of ``TransformersBackend`` and ``HFLM`` when their modules are imported; the
first call is the first request, timed from the parent's clock just before the process was spawned (interpreter
start, imports, task loading, model loading all count). Both processes get a fresh datasets cache; the harness's
weight-hash memo for the model folder is warmed first (a one-off cost per checkpoint) and its sources are
byte-compiled (as pip leaves an installed package's). The harness's stored ``load_s`` and ``duration_s`` are
printed beside it. The repeated start-up timings (``--start-repeats``) also start lm-eval's own command line
(``lm_eval --model hf ... --include_path``), which indexes lm-eval's built-in tasks as well.

    python benchmarks/lm_eval_speed.py --quick                      # LLaMA shape, zero-shot MC + generation
    python benchmarks/lm_eval_speed.py                              # the full matrix (four shapes x three workloads)
    python benchmarks/lm_eval_speed.py --shapes llama-1b --device cuda --dtype bfloat16 --docs 64
"""

from __future__ import annotations

import argparse
import compileall
import gc
import json
import math
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

RECIPE = 4  # bump when the model or tokenizer recipe changes (cache folders are keyed by it)
TOKENIZER_VOCAB = 8000
TOKENIZER_FILE = Path(__file__).resolve().parent / "data" / "bench-bpe-8000.json"
SPECIALS = ["<|endoftext|>", "<s>", "</s>", "<unk>"]  # ids 0..3
INIT_STD = 0.02
DOC_SEED = 1234
# A task's usual stops, and "a": random-weight models rarely write the first four, and "a" (in 22% of the
# tokenizer's tokens) stops their greedy text after 1 to 30 tokens or not at all, differently per row (measured on
# 16 rows: llama 9 rows <= 2 tokens, 3 of 9-16, 4 over 32; mistral 9 <= 8, 3 of ~30, 4 over 32; pythia 1-12).
STOP_SEQUENCES = ["\n\n", ".", "?", "!", "a"]


# -- shapes --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Shape:
    """A pinned model shape: a transformers config and the tokenizer style (``llama`` adds ``<s>``)."""

    name: str
    architecture: str
    config_class: str
    config: dict
    tokenizer: str
    note: str

    def get(self, key: str, default: Any = None) -> Any:
        return self.config.get(key, default)

    def layer_macs(self) -> int:
        """Multiply-adds per token of one decoder layer (projections and MLP; attention scores not counted)."""
        h, i, heads = self.config["hidden_size"], self.config["intermediate_size"], self.config["num_attention_heads"]
        kv_dim = self.get("num_key_value_heads", heads) * self.get("head_dim", h // heads)
        attention = 2 * h * h + 2 * h * kv_dim
        if self.architecture == "GPTNeoXForCausalLM":
            return attention + 2 * h * i
        if self.architecture == "MixtralForCausalLM":
            return attention + self.get("num_experts_per_tok") * 3 * h * i + h * self.get("num_local_experts")
        return attention + 3 * h * i

    def token_macs(self) -> int:
        """Multiply-adds per token of all layers."""
        return self.config["num_hidden_layers"] * self.layer_macs()

    def head_macs(self) -> int:
        """Multiply-adds per position of the vocabulary projection."""
        return self.config["hidden_size"] * self.config["vocab_size"]


_LLAMA_12x768 = {"hidden_size": 768, "num_hidden_layers": 12, "num_attention_heads": 12, "num_key_value_heads": 12,
                 "intermediate_size": 2048, "vocab_size": 8000, "max_position_embeddings": 2048, "bos_token_id": 1,
                 "eos_token_id": 2, "tie_word_embeddings": False}
SHAPES: dict[str, Shape] = {s.name: s for s in (
    Shape("pythia-70m", "GPTNeoXForCausalLM", "GPTNeoXConfig",
          {"hidden_size": 512, "num_hidden_layers": 6, "num_attention_heads": 8, "intermediate_size": 2048,
           "vocab_size": 50304, "max_position_embeddings": 2048, "rotary_pct": 0.25, "use_parallel_residual": True,
           "bos_token_id": 0, "eos_token_id": 0, "tie_word_embeddings": False},
          "gpt-neox", "GPT-NeoX 6 x 512, 8 heads, i 2048, vocab 50,304 (the projection outweighs the layers)"),
    Shape("llama", "LlamaForCausalLM", "LlamaConfig", _LLAMA_12x768, "llama",
          "LLaMA 12 x 768, 12 heads, i 2048, vocab 8,000 (layers ~93% of the work)"),
    Shape("mistral", "MistralForCausalLM", "MistralConfig", _LLAMA_12x768 | {"sliding_window": 64}, "llama",
          "Mistral 12 x 768, 12 heads, i 2048, vocab 8,000, sliding window 64"),
    Shape("mixtral", "MixtralForCausalLM", "MixtralConfig",
          _LLAMA_12x768 | {"intermediate_size": 1024, "num_local_experts": 8, "num_experts_per_tok": 2,
                           "sliding_window": None},
          "llama", "Mixtral 12 x 768, 12 heads, 8 experts of i 1024, top-2 (active MLP = the LLaMA's 2048)"),
    Shape("llama-1b", "LlamaForCausalLM", "LlamaConfig",
          {"hidden_size": 2048, "num_hidden_layers": 22, "num_attention_heads": 32, "num_key_value_heads": 4,
           "intermediate_size": 5632, "vocab_size": 32000, "max_position_embeddings": 2048, "bos_token_id": 1,
           "eos_token_id": 2, "tie_word_embeddings": False},
          "llama", "TinyLlama-1.1B: 22 x 2048, 32 heads (4 KV), i 5632, vocab 32,000 (GPU check)"),
)}
DEFAULT_SHAPES = ["pythia-70m", "llama", "mistral", "mixtral"]


def build_config(shape: Shape) -> Any:
    """The transformers config of a shape (cheap: no weights)."""
    import transformers

    config = getattr(transformers, shape.config_class)(**shape.config)
    config.architectures = [shape.architecture]
    return config


# -- workloads -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Workload:
    """Documents built from the project's task texts, sized in tokens of the benchmark tokenizer."""

    name: str
    kind: str  # "mc" or "gen"
    shots: int
    passage: int  # tokens of each passage drawn (re-encoded joined text comes out a little shorter)
    answer: int  # tokens of each answer drawn
    docs: int  # default document count
    note: str


WORKLOADS: dict[str, Workload] = {w.name: w for w in (
    Workload("mc0", "mc", 0, 102, 14, 100,
             "zero-shot multiple choice, 4 options, ~100-token contexts, ~13-token answers"),
    Workload("mc5", "mc", 5, 72, 14, 40, "5-shot multiple choice, 4 options, ~500-token contexts, ~13-token answers"),
    Workload("gen", "gen", 0, 110, 14, 64, f"greedy generation, ~100-token contexts, until {STOP_SEQUENCES}"),
)}
QUICK = {"shapes": ["llama"], "workloads": ["mc0", "gen"], "docs": {"mc0": 48, "gen": 32}}


def corpus_text() -> str:
    """Every string in the project's task JSONL files, in a fixed order."""
    from harness.resources import tasks_dir

    texts: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, str) and value.strip():
            texts.append(value.strip())
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    for path in sorted(tasks_dir().glob("*/*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                walk(json.loads(line))
    return "\n".join(texts)


class Snippets:
    """Random runs of about ``n`` tokens of the corpus (whitespace collapsed), from a seeded generator."""

    def __init__(self, tokenizer: Any, corpus: str, seed: int) -> None:
        self.text = corpus
        self.offsets = tokenizer.encode(corpus, add_special_tokens=False).offsets
        self.rng = random.Random(seed)

    def take(self, n: int) -> str:
        start = self.rng.randrange(len(self.offsets) - n)
        text = self.text[self.offsets[start][0]: self.offsets[start + n - 1][1]]
        return " ".join(text.split())


def build_docs(workload: Workload, snippets: Snippets, n_docs: int) -> list[dict]:
    """Documents: ``context`` (few-shot examples included) with ``choices``/``gold``, or a text to continue (ending
    anywhere, so that rows start their greedy walks apart) with a ``target``."""
    docs = []
    for d in range(n_docs):
        if workload.kind == "gen":
            docs.append({"context": snippets.take(workload.passage), "target": snippets.take(workload.answer)})
            continue
        shots = [f"{snippets.take(workload.passage)}\nAnswer: {snippets.take(workload.answer)}"
                 for _ in range(workload.shots)]
        context = "\n\n".join(shots + [f"{snippets.take(workload.passage)}\nAnswer:"])
        docs.append({"context": context, "choices": [snippets.take(workload.answer) for _ in range(4)],
                     "gold": d % 4})
    return docs


def gen_kwargs(max_gen_toks: int) -> dict:
    return {"until": list(STOP_SEQUENCES), "max_gen_toks": max_gen_toks, "do_sample": False}


def requests_for(workload: Workload, docs: list[dict], max_gen_toks: int) -> tuple[list[tuple], list[int]]:
    """lm-eval's requests for the documents (target_delimiter " ") and the document of each request."""
    if workload.kind == "gen":
        return [(d["context"], gen_kwargs(max_gen_toks)) for d in docs], list(range(len(docs)))
    pairs = [(d["context"], f" {choice}") for d in docs for choice in d["choices"]]
    return pairs, [i for i, d in enumerate(docs) for _ in d["choices"]]


# -- tokenizer and models --------------------------------------------------------------------------------
def bench_cache() -> Path:
    from harness.resources import cache_dir

    return cache_dir() / "bench" / "lm_eval_speed"


def tokenizer_corpus() -> str:
    """The project's text: the task files' strings, then its other text files, Markdown and Python sources."""
    patterns = ("tasks/*/*.txt", "*.md", "benchmarks/*.md", "leaderboards/*.md", "harness/**/*.py")
    files = [path for pattern in patterns for path in sorted(REPO.glob(pattern))]
    return "\n".join([corpus_text()] + [path.read_text(encoding="utf-8") for path in files])


def train_tokenizer() -> Any:
    """A byte-level BPE of 8,000 tokens trained on the project's text (~2 s)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=TOKENIZER_VOCAB, special_tokens=SPECIALS, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tokenizer.train_from_iterator(tokenizer_corpus().splitlines(), trainer=trainer)
    return tokenizer


def base_tokenizer() -> Any:
    """The committed benchmark tokenizer (``benchmarks/data/``), so that edits to the sources do not change token
    counts between measurements; trained and written there when missing (``--retrain-tokenizer``)."""
    from tokenizers import Tokenizer

    if not TOKENIZER_FILE.exists():
        write_tokenizer()
    return Tokenizer.from_file(str(TOKENIZER_FILE))


def write_tokenizer() -> None:
    tokenizer = train_tokenizer()
    TOKENIZER_FILE.parent.mkdir(parents=True, exist_ok=True)
    TOKENIZER_FILE.write_text(tokenizer.to_str() + "\n", encoding="utf-8")
    print(f"wrote {TOKENIZER_FILE} ({tokenizer.get_vocab_size()} tokens)")


def wrap_tokenizer(base: Any, style: str) -> Any:
    """``PreTrainedTokenizerFast``: LLaMA-like (adds ``<s>``) or GPT-NeoX-like (no BOS added)."""
    from tokenizers import Tokenizer, processors
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer.from_str(base.to_str())
    if style == "llama":
        tok.post_processor = processors.TemplateProcessing(single="<s> $A", pair="<s> $A <s> $B",
                                                           special_tokens=[("<s>", tok.token_to_id("<s>"))])
        names = {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"}
    else:
        names = {"bos_token": "<|endoftext|>", "eos_token": "<|endoftext|>", "unk_token": "<|endoftext|>"}
    return PreTrainedTokenizerFast(tokenizer_object=tok, model_max_length=2048, **names)


def random_weights(shape: Shape, dtype: Any, device: str, used_rows: int) -> dict[str, Any]:
    """Seeded normal weights (spread 0.02) drawn on ``device`` per tensor name; norms one, biases zero. The output
    embedding's rows past the tokenizer's ``used_rows`` get a tenth of the spread (as padding rows of a trained
    vocabulary are small), so that greedy decoding picks tokens the tokenizer can decode; not zero: tens of
    thousands of equal logits make float32 log-softmax (lm-eval's) err by ~5e-5 per token. Mixtral's experts in the
    published checkpoint layout, as the harness's tiny twins do."""
    import torch
    import transformers

    from harness.models.tiny import CHECKPOINT_LAYOUTS

    with torch.device("meta"):
        skeleton = getattr(transformers, shape.architecture)(build_config(shape))
    output = skeleton.get_output_embeddings().weight
    head = next(name for name, param in skeleton.named_parameters() if param is output)
    shapes = {name: tuple(t.shape) for name, t in skeleton.state_dict().items()}
    shapes = CHECKPOINT_LAYOUTS.get(shape.architecture, dict)(shapes)
    tensors = {}
    for name, size in shapes.items():
        if name.endswith(".bias"):
            value = torch.zeros(size, device=device)
        elif len(size) == 1 and "norm" in name:
            value = torch.ones(size, device=device)
        else:
            generator = torch.Generator(device=device).manual_seed(zlib.crc32(f"{shape.name}/{name}".encode()))
            value = torch.empty(size, device=device).normal_(0.0, INIT_STD, generator=generator)
        tensors[name] = value.to(dtype).cpu().contiguous()
    tensors[head][used_rows:] *= 0.1
    return tensors


def ensure_model(shape: Shape, base: Any, dtype: str, device: str) -> Path:
    """The checkpoint folder of a shape (weights saved in ``dtype``, the benchmark tokenizer), built once."""
    import hashlib

    from harness.models.tiny import build_atomically

    recipe = json.dumps([RECIPE, asdict(shape), base.to_str(), dtype, INIT_STD], sort_keys=True)
    target = bench_cache() / f"{shape.name}-{dtype}-{hashlib.sha256(recipe.encode()).hexdigest()[:12]}"
    if (target / "config.json").exists():
        return target

    def build(folder: Path) -> None:
        import torch
        from safetensors.torch import save_file

        torch_dtype = getattr(torch, dtype)
        config = build_config(shape)
        config.dtype = dtype
        tensors = random_weights(shape, torch_dtype, "cuda" if device.startswith("cuda") else "cpu",
                                 base.get_vocab_size())
        save_file(tensors, str(folder / "model.safetensors"), metadata={"format": "pt"})
        wrap_tokenizer(base, shape.tokenizer).save_pretrained(folder)
        config.save_pretrained(folder)  # config.json last: it marks a finished folder

    return build_atomically(target, build)


# -- counting the work -----------------------------------------------------------------------------------
def count_work(pairs: Sequence[tuple[list[int], list[int]]], shape: Shape, max_length: int,
               batch_size: int) -> dict[str, float]:
    """Multiply-adds of lm-eval's passes, of the per-pair path's and of the ideal, from the token pairs."""
    layers, head = shape.token_macs(), shape.head_macs()
    window = max_length + 1
    # lm-eval: Collator(group_by="contexts") keys requests by context + continuation[:-1] and runs the one with
    # the longest continuation; batches come in (-len(tokens), tokens) order and are right-padded per batch.
    groups: dict[tuple[int, ...], tuple[list[int], list[int]]] = {}
    for ctx, cont in pairs:
        key = tuple(ctx + cont[:-1])
        if key not in groups or len(cont) > len(groups[key][1]):
            groups[key] = (ctx, cont)
    ordered = sorted((ctx + cont for ctx, cont in groups.values()), key=lambda toks: (-len(toks), tuple(toks)))
    inputs = [min(len(toks), window) - 1 for toks in ordered]
    padded = sum(max(inputs[i: i + batch_size]) * len(inputs[i: i + batch_size])
                 for i in range(0, len(inputs), batch_size))
    scored = sum(len(cont) for _, cont in pairs)
    pair_inputs = sum(min(len(ctx) + len(cont), window) - 1 for ctx, cont in pairs)
    # ideal: each distinct context once, each continuation once without its last token; pairs lm-eval truncates
    # (longer than the window) cannot share and are counted as lm-eval runs them
    fits = [(ctx, cont) for ctx, cont in pairs if len(ctx) + len(cont) <= window]
    ideal_tokens = (sum(len(ctx) for ctx in {tuple(ctx) for ctx, _ in fits}) + sum(len(c) - 1 for _, c in fits)
                    + max_length * (len(pairs) - len(fits)))
    lm_eval = sum(inputs) * (layers + head)
    ideal = ideal_tokens * layers + scored * head
    return {"lm_eval_passes": len(inputs), "lm_eval_tokens": sum(inputs), "lm_eval_padded_tokens": padded,
            "ideal_tokens": ideal_tokens, "scored_tokens": scored, "lm_eval_macs": lm_eval,
            "lm_eval_padded_macs": padded * (layers + head), "per_pair_macs": pair_inputs * layers + scored * head,
            "ideal_macs": ideal, "ideal_speedup": lm_eval / ideal,
            "ideal_speedup_padded": padded * (layers + head) / ideal,
            "per_pair_limit": lm_eval / (pair_inputs * layers + scored * head),
            "projection_share": head / (layers + head)}


# -- the two programs, evaluation only ---------------------------------------------------------------------
def synchronize(device: str) -> None:
    import torch

    if device.startswith("cuda"):
        torch.cuda.synchronize()


def load_lm_eval(path: Path, args: argparse.Namespace) -> Any:
    from lm_eval.models.huggingface import HFLM

    return HFLM(pretrained=str(path), dtype=args.dtype, batch_size=args.batch_size, device=args.device)


def load_harness(path: Path, args: argparse.Namespace, shared: bool) -> Any:
    from harness.backends.hf import TransformersBackend
    from harness.models.resolve import ResolvedModel

    model_args: dict[str, Any] = {"shared_context": shared}
    if not args.have_lm_eval:
        model_args["max_length"] = 2048  # the backend reads it through lm-eval otherwise
    resolved = ResolvedModel(name=path.name, path=str(path), fingerprint=f"bench:{path.name}", source="local")
    return TransformersBackend(resolved, device=args.device, dtype=args.dtype, batch_size=args.batch_size,
                               model_args=model_args)


def ask_lm_eval(lm: Any, kind: str, requests: Sequence[tuple]) -> list:
    """lm-eval's model answering ``Instance`` objects, as its evaluator hands them over."""
    from lm_eval.api.instance import Instance

    instances = [Instance(request_type=kind, doc={}, arguments=req, idx=0, metadata=("bench", i, 1))
                 for i, req in enumerate(requests)]
    return list(getattr(lm, kind)(instances, disable_tqdm=True))


def ask_harness(backend: Any, kind: str, requests: Sequence[tuple]) -> list:
    """The backend's answers, put back in request order."""
    answers: list[Any] = [None] * len(requests)
    for positions, results in getattr(backend, kind)(list(requests)):
        for position, result in zip(positions, results):
            answers[position] = result
    return answers


def timed(ask: Callable[[Sequence[tuple]], list], requests: Sequence[tuple], warm: int, repeats: int,
          device: str) -> tuple[float, list]:
    """Best-of-``repeats`` seconds for all requests, after an untimed warm-up on the first ``warm`` requests."""
    ask(requests[:warm])
    best, answers = math.inf, []
    for _ in range(repeats):
        synchronize(device)
        start = time.perf_counter()
        answers = ask(requests)
        synchronize(device)
        best = min(best, time.perf_counter() - start)
    return best, answers


def greedy_margin(backend: Any, context: str, ours: str, ref: str) -> float:
    """Top-1 minus top-2 logit where two generations first differ (the texts re-encoded: approximate)."""
    import torch

    tokenizer, tokens = backend.tokenizer, backend.tokens
    a = tokenizer.encode(ours, add_special_tokens=False)
    b = tokenizer.encode(ref, add_special_tokens=False)
    common = next((k for k, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
    ids = torch.tensor([tokens.tok_encode(context) + a[:common]], device=backend.device)
    with torch.inference_mode():
        top = backend.model(input_ids=ids).logits[0, -1].float().topk(2).values
    return float(top[0] - top[1])


# -- parity --------------------------------------------------------------------------------------------------
def compare_choices(ref: list[tuple[float, bool]], ours: list[tuple[float, bool]], doc_of: list[int],
                    tolerance: float) -> dict[str, Any]:
    """Per-request |ΔLL| and per-document argmax against lm-eval; near-ties (lm-eval's top two closer than the
    tolerance) are counted, and an argmax that differs only there is a near-tie flip, not a mismatch."""
    diffs = [abs(a[0] - b[0]) for a, b in zip(ref, ours)]
    by_doc: dict[int, list[int]] = {}
    for position, doc in enumerate(doc_of):
        by_doc.setdefault(doc, []).append(position)
    near_ties = mismatches = flips = 0
    for positions in by_doc.values():
        ref_scores = [ref[p][0] for p in positions]
        our_scores = [ours[p][0] for p in positions]
        top = sorted(ref_scores, reverse=True)
        tie = len(top) > 1 and top[0] - top[1] < tolerance
        near_ties += tie
        if ref_scores.index(max(ref_scores)) != our_scores.index(max(our_scores)):
            flips += tie
            mismatches += not tie
    return {"max_abs_diff": max(diffs), "over_tolerance": sum(d > tolerance for d in diffs),
            "greedy_flag_diffs": sum(a[1] != b[1] for a, b in zip(ref, ours)), "argmax_mismatches": mismatches,
            "near_ties": near_ties, "near_tie_flips": flips,
            "ok": max(diffs) <= tolerance and mismatches == 0}


def compare_texts(ref: list[str], ours: list[str], margins: dict[int, float], tolerance: float) -> dict[str, Any]:
    """Identical generated text, or a difference at a near-tie (greedy margin below the tolerance)."""
    differ = [i for i, (a, b) in enumerate(zip(ref, ours)) if a != b]
    near = [i for i in differ if margins.get(i, math.inf) < tolerance]
    return {"differ": len(differ), "near_tie": len(near), "margins": [round(margins[i], 6) for i in differ
                                                                          if i in margins],
            "ok": len(differ) == len(near)}


def lengths_summary(tokenizer: Any, texts: Sequence[str], cap: int) -> dict[str, float]:
    """Generated lengths in tokens (re-encoded text, cut at the stop sequence): min, median, max, and how many
    reached the cap."""
    lengths = [len(tokenizer.encode(t, add_special_tokens=False)) for t in texts]
    return {"min": min(lengths), "median": statistics.median(lengths), "max": max(lengths),
            "at_cap": sum(n >= cap for n in lengths)}


# -- whole process -------------------------------------------------------------------------------------------
def write_task(folder: Path, workload: Workload, docs: list[dict], max_gen_toks: int) -> str:
    """A task YAML over local JSONL whose requests are exactly the evaluation-only ones."""
    task = f"bench_speed_{workload.name}"
    folder.mkdir(parents=True, exist_ok=True)
    data = folder / f"{task}.jsonl"
    data.write_text("".join(json.dumps(d) + "\n" for d in docs), encoding="utf-8")
    head = [f"task: {task}", "dataset_path: json", "dataset_kwargs:", "  data_files:",
            f"    test: {json.dumps(str(data))}", "test_split: test", 'doc_to_text: "{{context}}"']
    if workload.kind == "mc":
        body = ["output_type: multiple_choice", "doc_to_target: gold", 'doc_to_choice: "{{choices}}"',
                "metric_list:", "  - metric: acc"]
    else:
        kwargs = gen_kwargs(max_gen_toks)
        body = ["output_type: generate_until", 'doc_to_target: "{{target}}"', "generation_kwargs:",
                f"  until: {json.dumps(kwargs['until'])}", f"  max_gen_toks: {max_gen_toks}", "  do_sample: false",
                "metric_list:", "  - metric: exact_match"]
    (folder / f"{task}.yaml").write_text("\n".join(head + body + ["metadata:", "  version: 1.0", ""]))
    return task


def spawn(command: list[str], work: Path, label: str, stop_at_first: bool = False) -> dict[str, Any]:
    """Run ``first_request.py`` with ``command`` in a fresh process; wall time from just before the spawn."""
    record_path = work / f"{label}.json"
    env = dict(os.environ, HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", FIRST_REQUEST_STOP=str(int(stop_at_first)),
               HF_DATASETS_CACHE=tempfile.mkdtemp(prefix=f"datasets-{label}-", dir=work),
               PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    start = time.time()
    proc = subprocess.run([sys.executable, str(Path(__file__).with_name("first_request.py")), repr(start),
                           str(record_path), *command], env=env, capture_output=True, text=True,
                          check=False)
    wall = time.time() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{label} exited with {proc.returncode}: {proc.stderr.strip()[-2000:]}")
    record = json.loads(record_path.read_text())
    return record | {"wall_s": wall}


def harness_store_figures(db: Path) -> dict[str, Any]:
    """The stored run's evaluation seconds, load seconds and headline metric."""
    import duckdb

    with duckdb.connect(str(db), read_only=True) as conn:
        duration, load = conn.execute("SELECT duration_s, load_s FROM runs").fetchone()
        metric = conn.execute("SELECT metric, value FROM metrics WHERE metric IN ('acc', 'exact_match') "
                              "AND filter = 'none'").fetchone()
    return {"duration_s": duration, "load_s": load, "metric": dict([metric]) if metric else {}}


def whole_process(model: Path, workload: Workload, docs: list[dict], args: argparse.Namespace) -> dict[str, Any]:
    """``harness run`` against lm-eval's ``simple_evaluate``, each in a fresh process, on the same task."""
    from harness.models.resolve import folder_weights_sha256

    work = Path(tempfile.mkdtemp(prefix=f"bench-{workload.name}-", dir=args.work))
    task = write_task(work / "tasks", workload, docs, args.max_gen_toks)
    folder_weights_sha256(model)  # the harness's memo of the checkpoint's hash, warm as after any earlier run
    compileall.compile_dir(str(REPO / "harness"), quiet=1)  # byte-compiled, as pip leaves lm-eval's modules
    common = [str(len(docs)), str(args.batch_size), args.device, args.dtype]
    programs = {"harness": lambda db: ["harness", "run", "--model", str(model), "--task", task, "--include-path",
                                       str(work / "tasks"), "--limit", common[0], "--batch-size", common[1],
                                       "--device", args.device, "--dtype", args.dtype, "--backend", "transformers",
                                       "--db", str(db), "--quiet"]}
    if args.have_lm_eval:
        programs["lm_eval"] = lambda _: ["lm-eval", str(model), str(work / "tasks"), task, *common]
    out: dict[str, Any] = {label: spawn(command(work / "harness.duckdb"), work, label)
                           for label, command in sorted(programs.items(), reverse=True)}
    out["harness"] |= harness_store_figures(work / "harness.duckdb")
    if "lm_eval" in out:
        out["ratio"] = out["lm_eval"]["wall_s"] / out["harness"]["wall_s"]
    if args.have_lm_eval:  # lm-eval's own command, for the start-up timings only
        programs["lm_eval_cli"] = lambda _: ["lm-eval-cli", "--model", "hf", "--model_args",
                                             f"pretrained={model},dtype={args.dtype}", "--tasks", task,
                                             "--include_path", str(work / "tasks"), "--limit", common[0],
                                             "--batch_size", common[1], "--device", args.device]
    starts: dict[str, list[float]] = {label: [] for label in programs}
    for attempt in range(args.start_repeats):  # alternating, each on a fresh store as above
        for label, command in sorted(programs.items(), reverse=True):
            record = spawn(command(work / f"start-{attempt}.duckdb"), work, f"{label}-start", stop_at_first=True)
            starts[label].append(record["first_request_s"])
    for label, seconds in starts.items():
        out.setdefault(label, {})["first_request_median_s"] = statistics.median(seconds) if seconds else None
        out[label]["first_request_range"] = f"{min(seconds):.2f}-{max(seconds):.2f}" if seconds else "-"
    return out


# -- one shape, every workload ---------------------------------------------------------------------------------
@dataclass
class Models:
    """The loaded programs of one shape: lm-eval's HFLM (None when lm-eval is missing) and the backend twice."""

    lm: Any
    shared: Any
    per_pair: Any = None


def run_mc(shape: Shape, workload: Workload, docs: list[dict], models: Models,
           args: argparse.Namespace) -> dict[str, Any]:
    """Time the three paths on one multiple-choice workload, check parity and count the ideal."""
    requests, doc_of = requests_for(workload, docs, args.max_gen_toks)
    pairs = [models.shared.tokens.encode_pair(ctx, cont) for ctx, cont in requests]
    contexts = {tuple(ctx) for ctx, _ in pairs}
    row: dict[str, Any] = {"docs": len(docs), "requests": len(requests),
                           "context_tokens": statistics.mean(len(c) for c in contexts),
                           "continuation_tokens": statistics.mean(len(c) for _, c in pairs)}
    row |= count_work(pairs, shape, models.shared.max_length, args.batch_size)
    warm, kind = 4, "loglikelihood"
    ref = None
    if models.lm is not None:
        row["lm_eval_s"], ref = timed(lambda r: ask_lm_eval(models.lm, kind, r), requests, warm, args.repeats,
                                      args.device)
    for label, backend in (("shared", models.shared), ("per_pair", models.per_pair)):
        row[f"{label}_s"], ours = timed(lambda r, b=backend: ask_harness(b, kind, r), requests, warm, args.repeats,
                                        args.device)
        if ref is not None:
            row[f"{label}_speedup"] = row["lm_eval_s"] / row[f"{label}_s"]
            row[f"{label}_of_ideal"] = row[f"{label}_speedup"] / row["ideal_speedup"]
            row[f"{label}_parity"] = compare_choices(ref, ours, doc_of, args.tolerance)
    return row


def run_gen(workload: Workload, docs: list[dict], models: Models, args: argparse.Namespace) -> dict[str, Any]:
    """Time greedy generation on both sides, compare the texts and describe the generated lengths."""
    requests, _ = requests_for(workload, docs, args.max_gen_toks)
    backend, kind, warm = models.shared, "generate_until", 2
    row: dict[str, Any] = {"docs": len(docs), "requests": len(requests), "max_gen_toks": args.max_gen_toks,
                           "context_tokens": statistics.mean(len(backend.tokens.tok_encode(c)) for c, _ in requests)}
    ref = None
    if models.lm is not None:
        row["lm_eval_s"], ref = timed(lambda r: ask_lm_eval(models.lm, kind, r), requests, warm, args.repeats,
                                      args.device)
    row["harness_s"], ours = timed(lambda r: ask_harness(backend, kind, r), requests, warm, args.repeats, args.device)
    row["lengths"] = lengths_summary(backend.tokenizer, ref if ref is not None else ours, args.max_gen_toks)
    if ref is not None:
        row["speedup"] = row["lm_eval_s"] / row["harness_s"]
        margins = {i: greedy_margin(backend, requests[i][0], ours[i], ref[i])
                   for i in range(len(ref)) if ours[i] != ref[i]}
        row["parity"] = compare_texts(ref, ours, margins, args.tolerance)
    return row


def load_models(path: Path, args: argparse.Namespace, need_per_pair: bool) -> Models:
    models = Models(lm=load_lm_eval(path, args) if args.have_lm_eval else None, shared=load_harness(path, args, True))
    if need_per_pair:
        models.per_pair = load_harness(path, args, False)
    return models


def release(device: str) -> None:
    """Return the memory of models nothing refers to any more."""
    import torch

    gc.collect()
    if device.startswith("cuda"):
        torch.cuda.empty_cache()


def run_shape(shape: Shape, plan: dict[str, list[dict]], base: Any, args: argparse.Namespace) -> list[dict]:
    """Every workload of one shape: evaluation only with the models loaded once, then the whole processes."""
    started = time.perf_counter()
    path = ensure_model(shape, base, args.dtype, args.device)
    print(f"[{shape.name}] checkpoint {path} ({time.perf_counter() - started:.1f} s)", flush=True)
    rows = [{"shape": shape.name, "workload": name, "kind": WORKLOADS[name].kind} for name in plan]
    models = None
    try:
        models = load_models(path, args, any(WORKLOADS[name].kind == "mc" for name in plan))
        for row, (name, docs) in zip(rows, plan.items()):
            workload = WORKLOADS[name]
            print(f"[{shape.name}] {name}: {len(docs)} docs ...", flush=True)
            guarded(row, partial(run_mc, shape, workload, docs, models, args) if workload.kind == "mc"
                    else partial(run_gen, workload, docs, models, args))
    except Exception as exc:  # noqa: BLE001  (loading failed: every cell of the shape says why)
        for row in rows:
            row.setdefault("error", f"{type(exc).__name__}: {exc}")
    finally:
        models = None
        release(args.device)
    for row, (name, docs) in zip(rows, plan.items()):
        if name in args.whole_process and "error" not in row:
            print(f"[{shape.name}] {name}: whole process ...", flush=True)
            guarded(row, partial(whole_process, path, WORKLOADS[name], docs, args), key="whole")
    return rows


def guarded(row: dict[str, Any], work: Callable[[], dict[str, Any]], key: str | None = None) -> None:
    """Merge ``work()``'s figures into ``row`` (or under ``key``); an exception becomes the row's error, and the
    matrix goes on."""
    import traceback

    try:
        figures = work()
        row.update({key: figures} if key else figures)
    except Exception as exc:  # noqa: BLE001
        traceback.print_exc()
        row["error"] = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"


# -- reporting -------------------------------------------------------------------------------------------------
def cell(value: Any, spec: str = ".2f", suffix: str = "") -> str:
    return "-" if value is None else f"{value:{spec}}{suffix}"


def print_table(title: str, headers: list[str], rows: list[list[str]]) -> None:
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]
    print(f"\n{title}")
    for line in [headers] + rows:
        print("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(line, widths))))


def parity_cell(parity: dict | None) -> str:
    if parity is None:
        return "-"
    text = f"{parity['max_abs_diff']:.1e} {parity['argmax_mismatches']}m {parity['near_ties']}t"
    return text + ("" if parity["ok"] else " FAIL")


def mc_table(workload: Workload, rows: list[dict]) -> None:
    headers = ["shape", "ctx tok", "cont tok", "lm-eval passes", "ideal x", "(padded)", "per-pair limit",
               "lm-eval s", "shared s", "per-pair s", "shared x", "per-pair x", "shared/ideal", "per-pair/ideal",
               "parity shared", "parity per-pair"]
    lines = []
    for r in rows:
        if "error" in r and "shared_s" not in r:
            lines.append(_error_line(r, headers))
            continue
        lines.append([r["shape"], cell(r["context_tokens"], ".0f"), cell(r["continuation_tokens"], ".1f"),
                      f"{r['lm_eval_passes']}/{r['requests']}", cell(r["ideal_speedup"], ".2f", "x"),
                      cell(r["ideal_speedup_padded"], ".2f", "x"), cell(r["per_pair_limit"], ".2f", "x"),
                      cell(r.get("lm_eval_s")), cell(r.get("shared_s")), cell(r.get("per_pair_s")),
                      cell(r.get("shared_speedup"), ".2f", "x"), cell(r.get("per_pair_speedup"), ".2f", "x"),
                      cell(_pct(r.get("shared_of_ideal")), ".0f", "%"),
                      cell(_pct(r.get("per_pair_of_ideal")), ".0f", "%"),
                      parity_cell(r.get("shared_parity")), parity_cell(r.get("per_pair_parity"))])
    print_table(f"{workload.name}: {workload.note} (evaluation only; parity: max |dLL|, argmax "
                "mismatches m, near-ties t)", headers, lines)


def _error_line(row: dict, headers: list[str]) -> list[str]:
    """A table line for a cell that failed: the shape and the error."""
    return [row["shape"], row["error"][:60]] + [""] * (len(headers) - 2)


def _pct(fraction: float | None) -> float | None:
    return None if fraction is None else 100 * fraction


def gen_table(workload: Workload, rows: list[dict]) -> None:
    headers = ["shape", "ctx tok", "generated min/median/max (at cap)", "lm-eval s", "harness s", "speed-up",
               "texts differ (near-ties)", "greedy margins"]
    lines = []
    for r in rows:
        if "error" in r and "harness_s" not in r:
            lines.append(_error_line(r, headers))
            continue
        n, p = r["lengths"], r.get("parity")
        lines.append([r["shape"], cell(r["context_tokens"], ".0f"),
                      f"{n['min']}/{n['median']:g}/{n['max']} ({n['at_cap']} of {r['docs']} at {r['max_gen_toks']})",
                      cell(r.get("lm_eval_s")), cell(r.get("harness_s")), cell(r.get("speedup"), ".2f", "x"),
                      "-" if p is None else f"{p['differ']} ({p['near_tie']}){'' if p['ok'] else ' FAIL'}",
                      "-" if not p or not p["margins"] else " ".join(f"{m:.1e}" for m in p["margins"][:4])])
    print_table(f"{workload.name}: {workload.note} (evaluation only)", headers, lines)


def starts(record: dict[str, Any]) -> str:
    median = record.get("first_request_median_s")
    return "-" if median is None else f"{median:.2f} ({record['first_request_range']})"


def whole_table(rows: list[dict]) -> None:
    headers = ["shape", "workload", "lm-eval total s", "lm-eval first request s", "harness total s",
               "harness first request s", "harness load_s", "harness eval s", "whole-process x",
               "metric lm-eval/harness", "first request, median (range) lm-eval / harness",
               "lm-eval's command: first request"]
    lines = []
    for r in rows:
        w = r.get("whole")
        if w is None:
            continue
        lm, h = w.get("lm_eval", {}), w["harness"]
        metric = next(iter(h["metric"]), None)
        ref = lm.get("results", {}).get(f"{metric},none") if metric else None
        lines.append([r["shape"], r["workload"], cell(lm.get("wall_s")), cell(lm.get("first_request_s")),
                      cell(h["wall_s"]), cell(h.get("first_request_s")), cell(h["load_s"]), cell(h["duration_s"]),
                      cell(w.get("ratio"), ".2f", "x"), f"{cell(ref, '.4f')}/{cell(h['metric'].get(metric), '.4f')}",
                      f"{starts(lm)} / {starts(h)}", starts(w.get("lm_eval_cli", {}))])
    if lines:
        print_table("whole process (fresh processes: harness run vs lm-eval simple_evaluate)", headers, lines)


def report(rows: list[dict], workloads: list[str]) -> None:
    for name in workloads:
        selected = [r for r in rows if r["workload"] == name]
        (mc_table if WORKLOADS[name].kind == "mc" else gen_table)(WORKLOADS[name], selected)
    whole_table(rows)
    for r in rows:
        if "error" in r:
            print(f"ERROR {r['shape']}/{r['workload']}: {r['error']}")


def failed(rows: list[dict]) -> bool:
    """Any error, or any parity check that did not hold."""
    checks = [r.get(k) for r in rows for k in ("shared_parity", "per_pair_parity", "parity")]
    return any("error" in r for r in rows) or any(c is not None and not c["ok"] for c in checks)


# -- command line ------------------------------------------------------------------------------------------------
def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"reduced matrix: {QUICK['shapes']} x "
                        f"{QUICK['workloads']}, docs {QUICK['docs']} (under 10 minutes on 2 cores)")
    parser.add_argument("--shapes", help=f"comma-separated, of {', '.join(SHAPES)} "
                        f"(default: {', '.join(DEFAULT_SHAPES)})")
    parser.add_argument("--workloads", help=f"comma-separated, of {', '.join(WORKLOADS)} (default: all)")
    parser.add_argument("--docs", type=int, help="documents per workload (default: " +
                        ", ".join(f"{w.name} {w.docs}" for w in WORKLOADS.values()) + ")")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dtype", default="float32", choices=["float32", "bfloat16", "float16"])
    parser.add_argument("--repeats", type=int, default=1, help="timed repeats per path; the best is kept")
    parser.add_argument("--max-gen-toks", type=int, default=64)
    parser.add_argument("--tolerance", type=float, help="parity tolerance on log-likelihoods and greedy margins "
                        "(default 1e-4 in float32, 0.25 in 16-bit types, where lm-eval's log-softmax runs in the "
                        "model's dtype)")
    parser.add_argument("--whole-process", default="all", metavar="WORKLOADS",
                        help="workloads also timed as whole processes: all, none or a comma-separated list")
    parser.add_argument("--start-repeats", type=int, default=5, metavar="N",
                        help="extra fresh processes of each program, alternating, that stop at the first request: "
                        "the time before it is reported as their median and range (0: only the whole run's)")
    parser.add_argument("--json", metavar="FILE", help="write every figure here")
    parser.add_argument("--dry-run", action="store_true", help="print the plan and the shapes' configs; load nothing")
    parser.add_argument("--retrain-tokenizer", action="store_true",
                        help=f"retrain the benchmark tokenizer on the project's text, write data/{TOKENIZER_FILE.name} "
                        "and exit")
    args = parser.parse_args(argv)
    args.shapes = _names(args.shapes, QUICK["shapes"] if args.quick else DEFAULT_SHAPES, SHAPES, parser, "--shapes")
    args.workloads = _names(args.workloads, QUICK["workloads"] if args.quick else list(WORKLOADS), WORKLOADS, parser,
                            "--workloads")
    chosen = {"all": args.workloads, "none": []}.get(args.whole_process)
    args.whole_process = chosen if chosen is not None else _names(args.whole_process, [], WORKLOADS, parser,
                                                                  "--whole-process")
    if args.tolerance is None:
        args.tolerance = 1e-4 if args.dtype == "float32" else 0.25
    args.docs_per = {name: args.docs or (QUICK["docs"].get(name) if args.quick else None) or WORKLOADS[name].docs
                     for name in args.workloads}
    return args


def _names(text: str | None, default: list[str], known: dict, parser: argparse.ArgumentParser, flag: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()] if text else list(default)
    unknown = [n for n in names if n not in known]
    if unknown:
        parser.error(f"{flag}: unknown {', '.join(unknown)}; choose from {', '.join(known)}")
    return names


def describe_shapes(names: Sequence[str]) -> None:
    """Each shape's parameters and work per token, from its config on the meta device (no weights)."""
    import torch
    import transformers

    for name in names:
        shape = SHAPES[name]
        with torch.device("meta"):
            model = getattr(transformers, shape.architecture)(build_config(shape))
        params = sum(p.numel() for p in model.parameters())
        print(f"shape {name}: {shape.note}; {params / 1e6:.1f} M parameters; per token {shape.token_macs() / 1e6:.1f} "
              f"M multiply-adds in the layers + {shape.head_macs() / 1e6:.1f} M in the projection "
              f"({100 * shape.head_macs() / (shape.token_macs() + shape.head_macs()):.0f}%)")


def machine_line(args: argparse.Namespace) -> str:
    import platform

    import torch
    import transformers

    lm_eval = "missing"
    if args.have_lm_eval:
        from importlib.metadata import version

        lm_eval = version("lm_eval")
    gpu = f", {torch.cuda.get_device_name()}" if args.device.startswith("cuda") and torch.cuda.is_available() else ""
    return (f"machine: {platform.machine()}, {os.cpu_count()} cores, torch threads {torch.get_num_threads()}{gpu}; "
            f"torch {torch.__version__}, transformers {transformers.__version__}, lm-eval {lm_eval}; "
            f"device {args.device}, {args.dtype}, batch size {args.batch_size}, repeats {args.repeats}")


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.retrain_tokenizer:
        write_tokenizer()
        return 0
    import importlib.util

    args.have_lm_eval = importlib.util.find_spec("lm_eval") is not None
    print(machine_line(args))
    if not args.have_lm_eval:
        print("lm-eval is not installed here: only the harness's side runs (no ratios, no parity)")
    describe_shapes(args.shapes)
    for name in args.workloads:
        print(f"workload {name}: {WORKLOADS[name].note}; {args.docs_per[name]} docs"
              f"{'; also whole process' if name in args.whole_process else ''}")
    if args.dry_run:
        return 0
    from transformers.utils import logging as hf_logging

    import harness.backends.hf  # noqa: F401  (imports paid before any clock starts)

    hf_logging.disable_progress_bar()

    if args.have_lm_eval:
        import lm_eval.models.huggingface  # noqa: F401
    corpus = corpus_text()
    base = base_tokenizer()
    plan = {name: build_docs(WORKLOADS[name], Snippets(base, corpus, DOC_SEED + zlib.crc32(name.encode())),
                             args.docs_per[name]) for name in args.workloads}
    with tempfile.TemporaryDirectory(prefix="harness-lm-eval-speed-") as work:  # tasks, stores, datasets caches
        args.work = work
        rows = [row for name in args.shapes for row in run_shape(SHAPES[name], plan, base, args)]
    report(rows, args.workloads)
    if args.json:
        Path(args.json).write_text(json.dumps({"machine": machine_line(args), "args": {
            k: v for k, v in vars(args).items() if k != "work"}, "rows": rows}, indent=2, default=str))
    return 1 if failed(rows) else 0


if __name__ == "__main__":
    sys.exit(main())
