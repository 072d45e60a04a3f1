"""Every option of a run, declared once: its default, how it is checked and normalised, whether it changes
outputs (and so enters the request hash), what it applies to, whether a sweep may set it, and its CLI flags.

``harness.run``'s keyword arguments, ``harness run``/``harness sweep``'s flags, the request hash and the
"only applies to ..." errors are all read from ``OPTIONS``; adding an option is one declaration plus its use.
"""

from __future__ import annotations

import ast
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from harness.backends.base import Arg
from harness.errors import HarnessError

DEFAULT_SEED = "0,1234,1234,1234"
AUTO_CPU_BATCH, AUTO_MAX_BATCH = 16, 64  # --batch-size auto: on the CPU; the most a GPU search tries (lm-eval's)
NATIVE_KINDS = "harness-native tasks (preference, memorization, vision, video)"


@dataclass(frozen=True)
class Option:
    """One run option.

    ``scope`` is ``any``, ``text`` (lm-eval tasks only) or ``native`` (harness-native task types only);
    ``backends`` limits it to those backends. ``check`` normalises a given value or raises ``HarnessError``.
    ``cli`` holds ``argparse`` keyword arguments; ``commands`` the subcommands offering the flags.
    """

    name: str
    default: Any = None
    flags: tuple[str, ...] = ()
    changes_outputs: bool = True
    scope: str = "any"
    backends: tuple[str, ...] = ()
    sweep: bool = True
    check: Callable[[Any], Any] | None = None
    cli: dict[str, Any] = field(default_factory=dict)
    commands: tuple[str, ...] = ("run", "sweep")
    scope_error: str | None = None  # a message replacing the generic "only apply to" one

    @property
    def flag(self) -> str:
        return self.flags[0] if self.flags else "--" + self.name.replace("_", "-")

    def given(self, value: Any) -> bool:
        """Whether the user set it (None and False mean "not given")."""
        return value is not None and value is not False


# -- checks -----------------------------------------------------------------------------------------
def check_limit(limit: Any) -> int | float | None:
    """``--limit``: a positive number of samples, or a fraction below 1."""
    if limit is None:
        return None
    try:
        value = float(limit)
    except (TypeError, ValueError) as exc:
        raise HarnessError(f"--limit {limit!r} must be a number of samples, or a fraction below 1") from exc
    if not math.isfinite(value) or value <= 0:
        raise HarnessError(f"--limit {value:g} must be positive: a number of samples, or a fraction below 1")
    return int(value) if value >= 1 else value


def parse_seed(seed: str | int | None) -> list[int | None]:
    """lm-eval's ``--seed``: one integer for all four seeds, or ``python,numpy,torch,fewshot``."""
    if seed is None:
        seed = DEFAULT_SEED
    parts = [p.strip() for p in str(seed).split(",")]
    if len(parts) == 1:
        parts *= 4
    if len(parts) != 4:
        raise HarnessError(f"--seed {seed!r}: give one integer or four (python,numpy,torch,fewshot)")
    try:
        return [None if p.lower() == "none" else int(p) for p in parts]
    except ValueError as exc:
        raise HarnessError(f"--seed {seed!r}: seeds must be integers or None") from exc


def literal(raw: str) -> Any:
    """A ``k=v`` value: booleans, None, ints and floats recognised; Python literals in brackets or quotes
    (``until=["\\n\\n"]``, as lm-eval reads them); else the text."""
    lowered = raw.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("none", "null"):
        return None
    for cast in (int, float):
        try:
            return cast(raw)
        except ValueError:
            pass
    if raw and raw[0] in "[({'\"":
        try:
            return ast.literal_eval(raw)
        except (ValueError, SyntaxError):
            pass
    return raw


def split_top_level(text: str) -> list[str]:
    """``text`` split at the commas outside brackets and quotes (lm-eval's rule for ``k=v,...``)."""
    parts, start, depth, quote = [], 0, 0, None
    for i, char in enumerate(text):
        if quote:
            quote = None if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char in "[({":
            depth += 1
        elif char in "])}":
            depth = max(depth - 1, 0)
        elif char == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [part.strip() for part in parts if part.strip()]


def parse_kv(text: str | dict | None, flag: str) -> dict[str, Any]:
    """``k=v,k2=v2`` -> dict with ints, floats, booleans, None and literals recognised (lm-eval's syntax)."""
    if text is None or isinstance(text, dict):
        return dict(text or {})
    out: dict[str, Any] = {}
    for item in split_top_level(text):
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise HarnessError(f"{flag}: {item!r} is not key=value")
        out[key.strip()] = literal(raw.strip())
    return out


def _metadata(value: Any) -> dict | None:
    """``--metadata``: a JSON object, or ``k=v,...`` pieces as lm-eval also accepts."""
    if isinstance(value, list):  # the flag's values
        if len(value) == 1:
            return _metadata(value[0])
        return {k: v for piece in value for k, v in parse_kv(piece, "--metadata").items()}
    if value is None or isinstance(value, dict):
        return value
    if not str(value).lstrip().startswith(("{", "[", '"')) and "=" in str(value):
        return parse_kv(value, "--metadata")
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError as exc:
        raise HarnessError(f"--metadata is not valid JSON: {exc.msg}") from exc
    if not isinstance(parsed, dict):
        raise HarnessError("--metadata must be a JSON object, e.g. '{\"data_path\": \"FILE\"}'")
    return parsed


def _at_least(flag: str, low: int = 1) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if value is not None and value < low:
            raise HarnessError(f"{flag} {value} must be {'0 or more' if low == 0 else f'at least {low}'}")
        return value
    return check


def check_batch_size(value: Any) -> int | str:
    """``--batch-size``: a positive number, or lm-eval's ``auto`` / ``auto:N`` (resolved once the device is
    known: the largest batch that fits on a GPU, 16 on the CPU)."""
    text = str(value).strip().lower()
    if re.fullmatch(r"auto(:\d+)?", text):
        return "auto"
    try:
        number = int(text)
    except ValueError as exc:
        raise HarnessError(f"--batch-size {value!r}: give a number of requests, or auto") from exc
    return _at_least("--batch-size")(number)


def check_output_path(value: Any) -> str | None:
    """``--output-path``: a folder (created if missing) or a ``.json`` file name, as lm-eval takes it."""
    if value is None:
        return None
    from pathlib import Path

    path = Path(value)
    if path.suffix != ".json" and path.exists() and not path.is_dir():
        raise HarnessError(f"--output-path {value} is a file; give a folder (or a name ending in .json)")
    if path.suffix == ".json" and path.is_dir():
        raise HarnessError(f"--output-path {value} is a folder whose name ends in .json; give another name")
    return str(value)


def _tag(value: Any) -> Any:
    if value is not None and (not value.strip() or value != value.strip()):
        raise HarnessError(f"--tag {value!r}: give a non-empty name without surrounding spaces")
    return value


def _one_of(flag: str, choices: tuple[str, ...], hint: str) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if value is not None and value not in choices:
            raise HarnessError(f"{flag} {value!r}: use {hint}")
        return value
    return check


def _device(value: Any) -> Any:
    if not isinstance(value, str) or not re.fullmatch(r"auto|cpu|mps|cuda(:\d+)?", value):
        raise HarnessError(f"--device {value!r}: use auto, cpu, cuda or cuda:N")
    return value


def _dtype(value: Any) -> Any:
    if value not in ("auto", "float32", "float16", "bfloat16", "fp32", "fp16", "bf16"):
        raise HarnessError(f"unknown --dtype {value!r}; use auto, float32, float16 or bfloat16")
    return value


def _fraction(flag: str) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if value is not None and not 0 < value <= 1:
            raise HarnessError(f"{flag} {value:g} must be above 0 and at most 1")
        return value
    return check


def _url(flag: str) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if value is not None and not re.fullmatch(r"https?://[^\s/]+(/\S*)?", str(value)):
            raise HarnessError(f"{flag} {value!r}: give the server's address, e.g. http://localhost:8000/v1")
        return value
    return check


# lm-eval's generation settings the backends read; other keys pass through to the backend unchecked.
GEN_KWARGS = {"until": Arg((str, list)), "max_gen_toks": Arg(int, minimum=1), "do_sample": Arg(bool),
              "temperature": Arg(float, minimum=0), "top_p": Arg(float, minimum=0, exclusive_minimum=True, maximum=1),
              "top_k": Arg(int, minimum=0), "seed": Arg(int), "num_beams": Arg(int, minimum=1),
              "repetition_penalty": Arg(float, minimum=0, exclusive_minimum=True)}


def _gen_kwargs(value: Any) -> dict[str, Any]:
    parsed = parse_kv(value, "--gen-kwargs")
    for key, item in parsed.items():
        if key in GEN_KWARGS:
            GEN_KWARGS[key].check("--gen-kwargs", key, item)
    return parsed


def _backend(value: str) -> str:
    from harness.registry.backends import ALIASES

    return ALIASES.get(value, value)


# -- the declarations -------------------------------------------------------------------------------
_INT, _FLOAT = {"type": int}, {"type": float}
OPTIONS: tuple[Option, ...] = (
    Option("backend", "auto", check=_backend,
           cli={"help": "auto | transformers (hf) | vllm | openai; auto prints its choice"}),
    Option("batch_size", 8, changes_outputs=False, check=check_batch_size,
           cli={"help": "requests per forward pass, or auto (the largest that fits on a GPU; 16 on the CPU)"}),
    Option("max_batch_size", changes_outputs=False, check=_at_least("--max-batch-size"),
           cli={"type": int, "metavar": "N", "help": "the most --batch-size auto may pick"}),
    Option("limit", check=check_limit, cli={"type": float, "help": "samples per task (a fraction if below 1)"}),
    Option("num_fewshot", check=_at_least("--num-fewshot", 0), cli=_INT),
    Option("device", "auto", check=_device, cli={"help": "auto | cpu | cuda | cuda:N"}),
    Option("dtype", "auto", check=_dtype, cli={"help": "auto | float32 | float16 | bfloat16"}),
    Option("seed", DEFAULT_SEED, check=parse_seed,
           cli={"help": "python,numpy,torch,fewshot seeds (lm-eval's default)"}),
    Option("model_args", check=lambda v: parse_kv(v, "--model-args"),
           cli={"help": "k=v,... passed to the backend (e.g. max_length=1024)"}),
    Option("gen_kwargs", check=_gen_kwargs,
           cli={"help": "k=v,... generation settings (e.g. temperature=0,max_gen_toks=64)"}),
    Option("include_path", changes_outputs=False,
           cli={"action": "append", "help": "folder of your own lm-eval task YAMLs; repeatable"}),
    Option("apply_chat_template", flags=("--chat", "--apply-chat-template"), scope="text",
           cli={"action": "boolean_optional", "help": "format prompts with the model's chat template (default: on "
                "for chat models)"}),
    Option("system_instruction", flags=("--system-prompt", "--system-instruction"), scope="text",
           cli={"metavar": "TEXT", "help": "system prompt for every task (replaces a --prompt-strategy's)"}),
    Option("prompt_strategy", scope="text",
           cli={"choices": ["direct", "step-by-step", "explain-then-answer"],
                "help": "Orca-2-style system prompt for generative tasks"}),
    Option("teacher", scope="text",
           cli={"metavar": "MODEL", "help": "the teacher for factuality_imitation_gap (registry name, hub id or "
                "folder); its answers are stored as a run of their own"}),
    Option("teacher_base_url", check=_url("--teacher-base-url"),
           cli={"metavar": "URL", "help": "the teacher is served by this OpenAI-compatible server"}),
    Option("fewshot_as_multiturn", False, cli={"action": "store_true", "help": "few-shot examples as chat turns"}),
    Option("metadata", check=_metadata,
           cli={"nargs": "+", "help": "JSON object (or k=v pieces) passed to task configs (e.g. data_path for "
                "public datasets)"}),
    Option("base_url", backends=("openai",), check=_url("--base-url"),
           cli={"help": "openai only: the server, e.g. http://localhost:8000/v1 (key: $OPENAI_API_KEY)"}),
    Option("tensor_parallel_size", backends=("vllm",), check=_at_least("--tensor-parallel-size"),
           cli={"type": int, "help": "vllm only: GPUs per model, split by layers' tensors (default on GPUs: the "
                "registry's minimum, e.g. 2 for mixtral-8x7b)"}),
    Option("pipeline_parallel_size", backends=("vllm",), check=_at_least("--pipeline-parallel-size"),
           cli={"type": int, "help": "vllm only: GPUs per model, split by layer stages"}),
    Option("data_parallel_size", changes_outputs=False, scope="text", check=_at_least("--data-parallel-size"),
           cli={"type": int, "metavar": "N", "help": "split each task's requests across N engines (Ray actors, one "
                "per GPU or CPU), built once for the whole command"}),
    Option("adapter", changes_outputs=False, scope="text",  # in the model fingerprint instead
           cli={"metavar": "DIR", "help": "a LoRA adapter folder (peft) applied to the model; part of its "
                "fingerprint (transformers backend, CPU or GPU)"}),
    Option("quantization", changes_outputs=False, scope="text",
           check=_one_of("--quantization", ("nf4", "int8"), "nf4 (4-bit, QLoRA's) or int8"),
           cli={"choices": ["nf4", "int8"], "help": "load the weights 4-bit (NF4, QLoRA's) or 8-bit through "
                "bitsandbytes (CUDA GPUs only); part of the fingerprint"}),
    Option("gpu_memory_utilization", changes_outputs=False, backends=("vllm",),
           check=_fraction("--gpu-memory-utilization"),
           cli={"type": float, "help": "vllm only: fraction of GPU memory to use"}),
    Option("max_model_len", backends=("vllm",), check=_at_least("--max-model-len"),
           cli={"type": int, "help": "vllm only: context length of the engine"}),
    Option("use_cache", True, changes_outputs=False, flags=("--no-cache",),
           cli={"action": "store_false", "help": "recompute every request instead of reusing stored ones"}),
    Option("tag", changes_outputs=False, check=_tag,
           cli={"help": "tag the finished runs (for leaderboards and 'harness gate')"}),
    Option("quiet", False, changes_outputs=False, cli={"action": "store_true", "help": "no progress output"}),
    Option("output_path", changes_outputs=False, scope="text", sweep=False, commands=("run",),
           check=check_output_path,
           cli={"metavar": "DIR", "help": "also write lm-eval's output files here (results JSON; samples JSONL with "
                "--log-samples)"}),
    Option("log_samples", False, changes_outputs=False, scope="text", sweep=False, commands=("run",),
           cli={"action": "store_true", "help": "with --output-path: lm-eval's per-sample JSONL per task"}),
    Option("resume", False, changes_outputs=False, scope="text", sweep=False, commands=("run",),
           cli={"nargs": "?", "const": True, "metavar": "RUN_ID", "help": "continue the latest unfinished run with "
                "this model, task and settings (or RUN_ID)"}),
    Option("skip_finished", False, changes_outputs=False, sweep=False, commands=()),
    # harness-native task types
    Option("data", commands=("run",),
           scope_error="--data gives a vision or video task its images; text tasks read their data from their YAML "
                       "(public datasets: --metadata '{\"data_path\": FILE}')",
           cli={"metavar": "PATH", "help": "vision tasks: your own ImageFolder tree (CLASS/IMAGE files; optional "
                "labels.json mapping class folders to the model's labels); segmentation tasks: a COCO instances "
                "JSON"}),
    Option("images", scope="native", commands=("run",),
           cli={"metavar": "DIR", "help": "segmentation with --data: the folder of the annotated images"}),
    Option("prompt", scope="native", commands=("run",), check=_one_of("--prompt", ("point", "box"), "point or box"),
           cli={"choices": ["point", "box"], "help": "segmentation prompt (default point)"}),
    Option("clicks", scope="native", commands=("run",), check=_at_least("--clicks"),
           cli={"type": int, "metavar": "N", "help": "segmentation: N-click refinement (miou_click_1..N)"}),
    Option("coco_eval", scope="native", commands=("run",),
           cli={"choices": ["pycocotools", "faster-coco-eval"], "help": "segmentation: mask AP engine (default "
                "pycocotools; faster-coco-eval gives identical stats)"}),
    Option("generated", scope="native", commands=("run",),
           cli={"metavar": "DIR", "help": "fvd: score these videos (mp4/webm/gif, .npy, frame folders); no --model "
                "needed"}),
    Option("reference", scope="native", commands=("run",),
           cli={"metavar": "DIR|MODEL", "help": "fvd: reference videos (default: built-in moving shapes); "
                "preference: the reference model of DPO's reward (default: the registry's)"}),
    Option("beta", scope="native", commands=("run",),
           cli={"type": float, "help": "preference: DPO's β for the reward margin (default 0.1)"}),
    Option("i3d", scope="native", commands=("run",),
           cli={"metavar": "FILE", "help": "fvd: I3D weights (i3d_torchscript.pt or a state dict; 'random' checks "
                "the pipeline only)"}),
    Option("num_generated", scope="native", commands=("run",), check=_at_least("--num-generated"),
           cli={"type": int, "metavar": "N", "help": "fvd: generated clips (default 2048)"}),
    Option("num_reference", scope="native", commands=("run",), check=_at_least("--num-reference"),
           cli={"type": int, "metavar": "N", "help": "fvd: reference clips (default 2048)"}),
    Option("videomae", scope="native", commands=("run",),
           cli={"metavar": "DIR", "help": "fvd: a VideoMAE checkpoint folder; adds content-debiased cd_fvd"}),
)
BY_NAME = {option.name: option for option in OPTIONS}
# The options a harness-native task type's ``prepare`` reads (besides --data), and --gen-kwargs.
NATIVE_OPTIONS = tuple(o.name for o in OPTIONS if o.scope == "native")
# What the request hash covers: the options that change outputs, as given.
REQUEST_KEYS = tuple(o.name for o in OPTIONS if o.changes_outputs)
