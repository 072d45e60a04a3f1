"""lm-eval 0.4.13's command lines, as its documentation writes them, read by ``harness`` (in process: parse
and fold; the e2e tests run some of them)."""

from __future__ import annotations

import shlex

import pytest

from harness import lm_eval_cli
from harness.cli import build_parser
from harness.core.request import RunRequest
from harness.errors import HarnessError

# From lm-eval's README, docs/interface.md and `lm-eval run --help`, with only the program's name replaced (and
# the README's {placeholders} given values). Each: the command line, then what the harness run must be.
DOCUMENTED = [
    ("--model hf --model_args pretrained=EleutherAI/gpt-j-6B --tasks hellaswag --device cuda:0 --batch_size 8",
     {"model": "EleutherAI/gpt-j-6B", "backend": "transformers", "task": ["hellaswag"], "device": "cuda:0",
      "batch_size": 8}),
    ('--model hf --model_args pretrained=EleutherAI/pythia-160m,revision=step100000,dtype="float" '
     "--tasks lambada_openai,hellaswag --device cuda:0 --batch_size 8",
     {"model": "EleutherAI/pythia-160m", "revision": "step100000", "dtype": "float32",
      "task": ["lambada_openai,hellaswag"]}),
    ('--model hf --model_args pretrained=EleutherAI/pythia-160m,revision=step100000,dtype="float" '
     "--tasks lambada_openai,hellaswag --device cuda:0 --batch_size auto:4", {"batch_size": "auto"}),
    ("--model vllm --model_args pretrained=meta-llama/Llama-2-7b-hf,tensor_parallel_size=2,dtype=auto,"
     "gpu_memory_utilization=0.8,data_parallel_size=2 --tasks lambada_openai --batch_size auto",
     {"backend": "vllm", "model": "meta-llama/Llama-2-7b-hf", "dtype": "auto", "batch_size": "auto",
      "model_args": {"tensor_parallel_size": 2, "gpu_memory_utilization": 0.8, "data_parallel_size": 2}}),
    ("--model local-completions --tasks gsm8k --model_args model=facebook/opt-125m,"
     "base_url=http://127.0.0.1:8000/v1/completions,num_concurrent=1,max_retries=3,tokenized_requests=False,"
     "batch_size=16",
     {"backend": "openai", "model": "facebook/opt-125m", "base_url": "http://127.0.0.1:8000/v1", "batch_size": 16,
      "model_args": {"max_concurrency": 1, "max_retries": 3}}),
    ("run --model hf --model_args pretrained=gpt2 dtype=float32 --tasks hellaswag",
     {"model": "gpt2", "dtype": "float32", "apply_chat_template": False}),
    ("run --model vllm --model_args pretrained=EleutherAI/gpt-j-6B --tasks arc_easy arc_challenge --num_fewshot 5",
     {"backend": "vllm", "task": ["arc_easy", "arc_challenge"], "num_fewshot": 5}),
    ("run --model hf --model_args pretrained=gpt2 --tasks lambada --gen_kwargs temperature=0.8 top_p=0.95 "
     """'stop=["\\n\\n"]'""",
     {"gen_kwargs": {"temperature": 0.8, "top_p": 0.95, "stop": ["\n\n"]}}),
    ("run --model hf --model_args pretrained=gpt2 --tasks hellaswag", {"model": "gpt2"}),
    ("--model hf --model_args pretrained=EleutherAI/pythia-160m,dtype=float32 --tasks hellaswag",
     {"model": "EleutherAI/pythia-160m"}),
    ("--model hf --model_args pretrained=EleutherAI/gpt-j-6B --tasks hellaswag --device cuda:0 --batch_size 8 "
     "--log_samples --output_path output/gpt-j-6B", {"log_samples": True, "output_path": "output/gpt-j-6B"}),
    ("--model hf --model_args pretrained=microsoft/phi-2,trust_remote_code=True --tasks hellaswag,"
     "mmlu_abstract_algebra --device cuda:0 --batch_size 8 --output_path output/phi-2 --limit 10 --log_samples",
     {"model_args": {"trust_remote_code": True}, "limit": 10.0}),
    ("--model hf --model_args pretrained=EleutherAI/gpt-j-6b,parallelize=True,load_in_4bit=True,"
     "peft=nomic-ai/gpt4all-j-lora --tasks openbookqa,arc_easy,winogrande,hellaswag,arc_challenge,piqa,boolq "
     "--device cuda:0", {"quantization": "nf4", "adapter": "nomic-ai/gpt4all-j-lora",
                         "model_args": {"parallelize": True}}),
    ("--model hf --model_args pretrained=EleutherAI/pythia-160m --tasks hellaswag --apply_chat_template "
     "--num_fewshot 5", {"apply_chat_template": True, "fewshot_as_multiturn": True}),
    ("-M hf -a pretrained=EleutherAI/pythia-160m -t hellaswag arc_easy -f 0 -b 4 -L 0.5 -o out -s -c cache_",
     {"model": "EleutherAI/pythia-160m", "task": ["hellaswag", "arc_easy"], "num_fewshot": 0, "batch_size": 4,
      "limit": 0.5, "output_path": "out", "log_samples": True}),
    ("--model hf --model_args pretrained=gpt2 --tasks hellaswag --seed 0,None,8,52 --system_instruction 'Be brief.' "
     "--include_path my_tasks", {"seed": "0,None,8,52", "system_instruction": "Be brief.",
                                 "include_path": ["my_tasks"]}),
    ("--model hf --model_args pretrained=gpt2 --tasks hellaswag --cache_requests true --verbosity WARNING "
     "--max_batch_size 32 --batch_size auto", {"quiet": True, "max_batch_size": 32}),
]


def lm_eval_command(line: str):
    """``harness LINE`` parsed and folded as ``harness`` does it: (namespace, notes)."""
    parser = build_parser()
    args = parser.parse_args(lm_eval_cli.bare_run(shlex.split(line)))
    return args, lm_eval_cli.fold(args, args.run_parser)


@pytest.mark.parametrize("line,expected", DOCUMENTED, ids=[f"doc{i}" for i in range(len(DOCUMENTED))])
def test_documented_command_lines_become_harness_runs(line, expected):
    args, _ = lm_eval_command(line)
    got = {key: getattr(args, key) for key in expected}
    for key in ("batch_size",):  # checked as the run request normalises it
        if key in got:
            got[key] = RunRequest.build(args.model, args.task, **{key: got[key]}).batch_size
    assert got == expected
    assert args.command == "run"


def test_notes_say_what_an_accepted_flag_does_not_do():
    _, notes = lm_eval_command("--model hf --model_args pretrained=gpt2 --tasks t --use_cache sqlite_cache_")
    assert notes == ["--use_cache: responses are cached in the store (--db) and reused by default; PATH is not "
                     "used"]


@pytest.mark.parametrize("line,message", [
    ("--model hf --tasks hellaswag", "--model hf is lm-eval's model type: name the checkpoint with --model_args "
                                     "pretrained=NAME"),
    ("--model hf --model_args pretrained=x --tasks t --wandb_args project=p", "lm-eval's --wandb_args is not "
                                                                               "supported by harness"),
    ("--model hf --model_args pretrained=x --tasks t --samples {}", "lm-eval's --samples is not supported"),
    ("--model hf --model_args pretrained=x,backend=seq2seq --tasks t", "backend=seq2seq: lm-eval's hf setting "
                                                                       "has no counterpart"),
    ("--model hf --model_args pretrained=x,tokenizer=y --tasks t", "harness reads the tokenizer of the model"),
    ("--model hf --model_args pretrained=x --tasks t --apply_chat_template chatml", "named chat templates are not "
                                                                                   "supported"),
    ("--model hf --model_args pretrained=x --tasks t --log_samples", "add --output-path DIR"),
    ("--model vllm --model_args pretrained=x --backend transformers --tasks t", "runs on --backend vllm"),
])
def test_flags_without_a_counterpart_are_refused_in_one_line(line, message):
    with pytest.raises(HarnessError) as raised:
        lm_eval_command(line)
    assert message in str(raised.value) and "\n" not in str(raised.value)


def test_a_config_file_fills_what_the_command_line_leaves_unset(tmp_path):
    config = tmp_path / "my_config.yaml"
    config.write_text("model: hf\nmodel_args:\n  pretrained: gpt2\n  dtype: float32\ntasks: [hellaswag]\n"
                      "batch_size: 4\nnum_fewshot: 3\nlog_samples: true\noutput_path: out\n")
    args, _ = lm_eval_command(f"run --config {config} --tasks mmlu --num_fewshot 1")
    assert (args.model, args.dtype, args.task, args.batch_size, args.num_fewshot, args.output_path) == (
        "gpt2", "float32", ["mmlu"], "4", 1, "out")


def test_every_lm_eval_run_flag_is_mapped_or_refused():
    """lm-eval's own ``run`` parser: each of its flags is one we read."""
    import argparse

    from lm_eval._cli.run import Run

    parser = argparse.ArgumentParser()
    Run(parser.add_subparsers())
    theirs = {flag for action in parser._subparsers._group_actions[0].choices["run"]._actions
              for flag in action.option_strings if flag not in ("-h", "--help")}
    ours = {flag for action in build_parser().commands["run"]._actions for flag in action.option_strings}
    assert theirs - ours == set()
