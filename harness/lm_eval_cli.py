"""lm-eval 0.4.13's command line on ``harness run``: its flags as aliases of ours, its model types mapped to our
backends, its value forms (space-separated lists, ``k=v`` literals, JSON), and each flag without a counterpart
refused in one line. ``harness --model hf --tasks ...`` is ``harness run ...``, as ``lm_eval`` inserts ``run``.

Where lm-eval's behaviour differs from ours, its spellings bring its behaviour: ``--apply_chat_template`` turns
on ``fewshot_as_multiturn`` (0.4.13's default with a chat template), and ``--model TYPE`` leaves the chat
template off unless asked for.
"""

from __future__ import annotations

import argparse
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.core.options import BY_NAME, literal, parse_kv, split_top_level
from harness.errors import HarnessError

LM_EVAL_VERSION = "0.4.13"
# lm-eval model types and the backend each becomes; the model comes from pretrained= (or model=)
MODEL_TYPES = {"hf": "transformers", "huggingface": "transformers", "vllm": "vllm",
               "local-completions": "openai", "local-chat-completions": "openai"}
# lm-eval model arguments that are options of ours
_TO_OPTIONS = {"revision": "revision", "dtype": "dtype", "device": "device", "batch_size": "batch_size",
               "max_batch_size": "max_batch_size", "peft": "adapter", "base_url": "base_url"}
# lm-eval model arguments that are our backends' own, under another name
_RENAMED = {"num_concurrent": "max_concurrency"}
# lm-eval model arguments accepted with these values only (they are what the harness does anyway)
_FIXED = {"backend": ("causal", "default"), "tokenizer_backend": ("huggingface",), "use_fast_tokenizer": (True,),
          "tokenized_requests": (False,)}
_DTYPES = {"half": "float16", "float": "float32", "bf16": "bfloat16", "fp16": "float16", "fp32": "float32"}


@dataclass(frozen=True)
class LmEvalFlag:
    """One flag of ``lm_eval run``: what it becomes here, or why it is refused."""

    flags: tuple[str, ...]
    becomes: str  # the harness option or behaviour it maps to (the README's table)
    dest: str | None = None  # our option it sets directly (same meaning, same values)
    kwargs: dict[str, Any] = field(default_factory=dict)  # how argparse reads lm-eval's value forms
    refused: str | None = None  # why the harness refuses it
    note: str | None = None  # accepted, but changes nothing here: said once on stderr

    @property
    def name(self) -> str:
        return self.flags[0].lstrip("-")


_LIST = {"nargs": "+"}
_FLAG = {"action": "store_true"}
_VALUE = {"nargs": "?", "const": True}
FLAGS: tuple[LmEvalFlag, ...] = (
    LmEvalFlag(("--config", "-C"), "its YAML keys, read as these flags (the command line wins)", kwargs={}),
    LmEvalFlag(("--tasks", "-t"), "--task (space- or comma-separated)", kwargs=_LIST),
    LmEvalFlag(("-M",), "--model (an lm-eval model type with pretrained= picks the backend)", dest="model"),
    LmEvalFlag(("--model_args", "-a"), "--model-args; pretrained=, revision=, dtype=, device=, peft=, base_url= "
               "become --model, --revision, --dtype, --device, --adapter, --base-url", kwargs=_LIST),
    LmEvalFlag(("--apply_chat_template",), "--chat, with fewshot_as_multiturn on (lm-eval's default)",
               kwargs=_VALUE),
    LmEvalFlag(("-L",), "--limit", dest="limit"),
    LmEvalFlag(("--use_cache", "-c"), "the store's request cache (on by default)", kwargs={},
               note="--use_cache: responses are cached in the store (--db) and reused by default; PATH is not used"),
    LmEvalFlag(("--num_fewshot", "-f"), "--num-fewshot", dest="num_fewshot"),
    LmEvalFlag(("--batch_size", "-b"), "--batch-size (auto and auto:N too)", dest="batch_size"),
    LmEvalFlag(("--max_batch_size",), "--max-batch-size", dest="max_batch_size"),
    LmEvalFlag(("--gen_kwargs",), "--gen-kwargs", kwargs=_LIST),
    LmEvalFlag(("--output_path", "-o"), "--output-path (lm-eval's results JSON)", dest="output_path"),
    LmEvalFlag(("--log_samples", "-s"), "--log-samples (lm-eval's samples JSONL)", dest="log_samples"),
    LmEvalFlag(("--samples", "-E"), "", kwargs={}, refused="choosing documents by index is not supported; use "
               "--limit N for the first N"),
    LmEvalFlag(("--cache_requests",), "nothing: requests are built by the plan of each run", kwargs=_VALUE,
               note="--cache_requests: requests are built afresh by each run's plan (responses are cached)"),
    LmEvalFlag(("--check_integrity",), "", kwargs=_FLAG, refused="it runs lm-eval's own task tests; run them "
               "with lm-eval"),
    LmEvalFlag(("--system_instruction",), "--system-instruction", dest="system_instruction"),
    LmEvalFlag(("--fewshot_as_multiturn",), "--fewshot-as-multiturn (true/false)", kwargs=_VALUE),
    LmEvalFlag(("--include_path",), "--include-path", dest="include_path"),
    LmEvalFlag(("--verbosity", "-v"), "--quiet for WARNING, ERROR and CRITICAL", kwargs={}),
    LmEvalFlag(("--write_out", "-w"), "", kwargs=_FLAG, refused="the run pages show every prompt: "
               "'harness leaderboard --out DIR', or 'harness export RUN'"),
    LmEvalFlag(("--show_config",), "", kwargs=_FLAG, refused="'harness show RUN --format json' prints a run's "
               "settings"),
    *(LmEvalFlag((flag,), "", kwargs=_LIST, refused="results are kept in the DuckDB store; send them on from "
                 "'harness export'") for flag in ("--wandb_args", "--wandb_config_args", "--trackio_args",
                                                  "--hf_hub_log_args")),
    LmEvalFlag(("--predict_only", "-x"), "", kwargs=_FLAG, refused="every run is scored; its outputs are in "
               "the store either way"),
    LmEvalFlag(("--trust_remote_code",), "--model-args trust_remote_code=true", kwargs=_FLAG),
    LmEvalFlag(("--confirm_run_unsafe_code",), "", kwargs=_FLAG, refused="tasks that execute generated code "
               "are not supported"),
)


def add_flags(parser: argparse.ArgumentParser) -> None:
    """lm-eval's flags on the ``run`` parser: aliases write our options' destinations; the others are folded
    in by ``fold`` after parsing."""
    group = parser.add_argument_group(f"lm-eval {LM_EVAL_VERSION} spellings")
    for flag in FLAGS:
        if flag.dest is not None:
            option = BY_NAME.get(flag.dest)
            kwargs = {k: v for k, v in (option.cli if option else {}).items() if k in ("type", "action", "nargs",
                                                                                       "const", "metavar")}
            if kwargs.get("action") == "boolean_optional":
                kwargs.pop("action")
            group.add_argument(*flag.flags, dest=flag.dest, default=argparse.SUPPRESS, help=f"= {flag.becomes}",
                               **kwargs)
        else:
            group.add_argument(*flag.flags, dest=f"lm_eval_{flag.name}", default=None,
                               help=f"refused: {flag.refused}" if flag.refused else f"= {flag.becomes}",
                               **flag.kwargs)


def bare_run(argv: list[str]) -> list[str]:
    """``harness --model ... --tasks ...`` is ``harness run ...``, as ``lm_eval`` inserts ``run``: a command line
    that starts with a flag other than ``--help`` and ``--version`` names no command (commands come first)."""
    if argv and argv[0].startswith("-") and argv[0] not in ("-h", "--help", "--version"):
        return ["run", *argv]
    return argv


def fold(args: argparse.Namespace, parser: argparse.ArgumentParser) -> list[str]:
    """Turn the lm-eval spellings of a parsed ``harness run`` into our options, in place; returns the notes to
    print. Raises ``HarnessError`` for a refused flag or value."""
    _read_config(args, parser)
    for flag in FLAGS:
        if flag.refused and getattr(args, f"lm_eval_{flag.name}", None) not in (None, False):
            raise HarnessError(f"lm-eval's {flag.flags[0]} is not supported by harness: {flag.refused}")
    notes = [f.note for f in FLAGS if f.note and getattr(args, f"lm_eval_{f.name}", None) is not None]
    if args.lm_eval_tasks:
        args.task = [*(args.task or []), *args.lm_eval_tasks]
    model_args = {**parse_kv(args.model_args, "--model-args"), **_merged(args.lm_eval_model_args, "--model_args")}
    if args.lm_eval_trust_remote_code:
        model_args["trust_remote_code"] = True
    if args.model in MODEL_TYPES:
        _model_type(args, model_args)
    args.model_args = model_args or None
    if args.lm_eval_gen_kwargs:
        args.gen_kwargs = {**parse_kv(args.gen_kwargs, "--gen-kwargs"),
                           **_merged(args.lm_eval_gen_kwargs, "--gen_kwargs")}
    _chat(args)
    if args.lm_eval_verbosity and args.lm_eval_verbosity.upper() in ("WARNING", "ERROR", "CRITICAL"):
        args.quiet = True
    if args.log_samples and not args.output_path:
        raise HarnessError("--log-samples writes lm-eval's samples files beside its results: add --output-path DIR")
    return notes


def _merged(values: list[str] | dict | None, flag: str) -> dict[str, Any]:
    """lm-eval's ``k=v`` pieces (each may hold several, comma-separated) or one JSON object, merged."""
    if not values:
        return {}
    if isinstance(values, dict):
        return dict(values)
    if values[0].lstrip().startswith("{"):
        try:
            parsed = json.loads(values[0])
        except json.JSONDecodeError as exc:
            raise HarnessError(f"{flag} {values[0]!r} is not valid JSON: {exc.msg}") from exc
        if isinstance(parsed, dict):
            return parsed
    merged: dict[str, Any] = {}
    for value in values:
        merged.update(parse_kv(value, flag))
    return merged


def _chat(args: argparse.Namespace) -> None:
    """``--apply_chat_template`` and ``--fewshot_as_multiturn`` as lm-eval 0.4.13 reads them."""
    template, multiturn = args.lm_eval_apply_chat_template, args.lm_eval_fewshot_as_multiturn
    if isinstance(template, str):
        raise HarnessError(f"--apply_chat_template {template}: named chat templates are not supported; the "
                           "tokenizer's default template is used with --apply_chat_template alone")
    if template:
        args.apply_chat_template = True
        args.fewshot_as_multiturn = True if multiturn is None else multiturn
    if multiturn is not None:
        args.fewshot_as_multiturn = multiturn is True or str(multiturn).lower() in ("true", "1", "yes")
    if args.fewshot_as_multiturn and args.apply_chat_template is False:
        raise HarnessError("--fewshot_as_multiturn needs the chat template: add --apply_chat_template")


def _model_type(args: argparse.Namespace, model_args: dict[str, Any]) -> None:
    """``--model hf --model_args pretrained=NAME,...``: the backend from the type, the model from the args."""
    kind = args.model
    name = model_args.pop("pretrained", None) or model_args.pop("model", None)
    if name is None:
        raise HarnessError(f"--model {kind} is lm-eval's model type: name the checkpoint with --model_args "
                           f"pretrained=NAME (or --model NAME)")
    backend = MODEL_TYPES[kind]
    if args.backend not in ("auto", backend, "hf" if backend == "transformers" else backend):
        raise HarnessError(f"--model {kind} runs on --backend {backend}, not {args.backend}")
    args.model, args.backend = str(name), backend
    if kind == "local-chat-completions":
        model_args.setdefault("api", "chat")
    if args.apply_chat_template is None:  # lm-eval formats prompts with a chat template only when asked
        args.apply_chat_template = False
    for key in list(model_args):
        _model_arg(args, kind, key, model_args)


def _model_arg(args: argparse.Namespace, kind: str, key: str, model_args: dict[str, Any]) -> None:
    """Move one lm-eval model argument to the option or backend argument that means the same."""
    value = model_args[key]
    if key in _FIXED:
        if value not in _FIXED[key] and str(value) not in map(str, _FIXED[key]):
            raise HarnessError(f"--model_args {key}={value}: lm-eval's {kind} setting has no counterpart in "
                               f"harness (accepted: {', '.join(map(str, _FIXED[key]))})")
        del model_args[key]
    elif key == "tokenizer":
        if str(value) != args.model:
            raise HarnessError(f"--model_args tokenizer={value}: harness reads the tokenizer of the model itself "
                               f"({args.model})")
        del model_args[key]
    elif key in ("load_in_4bit", "load_in_8bit"):
        if literal(str(value)) is True:
            args.quantization = "nf4" if key == "load_in_4bit" else "int8"
        del model_args[key]
    elif key in _TO_OPTIONS:
        _to_option(args, _TO_OPTIONS[key], model_args.pop(key))
    elif key in _RENAMED:
        model_args[_RENAMED[key]] = model_args.pop(key)


def _to_option(args: argparse.Namespace, option: str, value: Any) -> None:
    if option == "dtype":
        value = _DTYPES.get(str(value), str(value))
    elif option == "base_url":  # lm-eval's is the endpoint itself
        value = re.sub(r"/(chat/)?completions/?$", "", str(value))
    elif option == "adapter":
        value = str(value)
    setattr(args, option, value)


def _read_config(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    """``--config FILE``: lm-eval's YAML of flag names and values, for what the command line left unset."""
    if not args.lm_eval_config:
        return
    import yaml

    path = Path(args.lm_eval_config)
    try:
        config = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise HarnessError(f"--config {path}: cannot read it ({exc.strerror})") from exc
    except yaml.YAMLError as exc:
        raise HarnessError(f"--config {path} is not valid YAML: {str(exc).splitlines()[0]}") from exc
    if not isinstance(config, dict):
        raise HarnessError(f"--config {path} must be a mapping of lm-eval flag names to values")
    from_file = parser.parse_args(_as_argv(config, path))
    for dest, value in vars(from_file).items():
        if value is not None and getattr(args, dest, None) in (None, False, parser.get_default(dest)):
            setattr(args, dest, value)


def _as_argv(config: dict[str, Any], path: Path) -> list[str]:
    """A YAML config as the flags it stands for."""
    argv: list[str] = []
    for key, value in config.items():
        flag = f"--{key}"
        if key == "config":
            raise HarnessError(f"--config {path}: a config file cannot name another config")
        if value is None or value is False:
            continue
        if value is True:
            argv.append(flag)
        elif isinstance(value, dict):
            argv += [flag, json.dumps(value)]
        elif isinstance(value, list):
            argv += [flag, *map(str, value)]
        else:
            argv += [flag, *(split_top_level(str(value)) if key == "tasks" else [str(value)])]
    return argv
