"""Multiple-choice throughput: the harness vs lm-eval's ``hf`` model, back to back on this machine.

A model with the shape of pythia-70m (6 layers, hidden 512, 8 heads, vocab 50,304,
seeded random weights with the usual 0.02 spread) scores a multiple-choice task (a finance passage and
question) whose four numeric choices are several tokens long, with the same batch size on both sides. Prints samples per
second, the ratio, the largest per-sample log-likelihood difference and whether
the accuracies are identical. Each figure is the whole evaluation: model load,
requests, scoring (and, for the harness, writing every sample to DuckDB), with
Python imports paid before the clocks start.

    python benchmarks/mc_throughput.py [--docs 200] [--batch-size 16] [--device cpu]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

TASK_YAML = """task: bench_choices
dataset_path: json
dataset_kwargs:
  data_files:
    test: {data}
test_split: test
output_type: multiple_choice
doc_to_text: "{{{{question}}}}\\nAnswer:"
doc_to_target: gold
doc_to_choice: "{{{{choices}}}}"
metric_list:
  - metric: acc
  - metric: acc_norm
metadata:
  version: 1.0
"""


def pythia_70m_shape():
    """A registry entry for a seeded, pythia-70m-shaped GPT-NeoX (built once in the harness cache)."""
    from harness.registry import ModelSpec, TinyConfig

    config = dict(hidden_size=512, num_hidden_layers=6, num_attention_heads=8, intermediate_size=2048,
                  vocab_size=50304, max_position_embeddings=2048, rotary_pct=0.25, bos_token_id=0,
                  eos_token_id=0, use_parallel_residual=True, tie_word_embeddings=False)
    return ModelSpec(name="bench-pythia-70m-shape", family="pythia", architecture="GPTNeoXForCausalLM",
                     dtype="float32", tiny=TinyConfig(config_class="GPTNeoXConfig", config=config,
                                                      tokenizer="gpt-neox", init_std=0.02))


def write_task(folder: Path, n_docs: int) -> None:
    """Finance questions over a passage, with four numeric answers of several tokens each (ARC-like)."""
    from harness.resources import tasks_dir

    lines = (tasks_dir() / "finance" / "numeric_test.jsonl").read_text().splitlines()
    docs = []
    for i in range(n_docs):
        d = json.loads(lines[i % len(lines)])
        gold, value = i % 4, float(d["answer"])
        choices = [f"{value * (1 + 0.1 * (j - gold)):,.2f} in fiscal {2010 + (i + j) % 10}" for j in range(4)]
        docs.append({"question": f"{d['pre_text']} {d['question']}", "gold": gold, "choices": choices})
    (folder / "data.jsonl").write_text("".join(json.dumps(d) + "\n" for d in docs))
    (folder / "bench.yaml").write_text(TASK_YAML.format(data=folder / "data.jsonl"))


def run_lm_eval(path: str, folder: Path, n_docs: int, batch_size: int, device: str):
    import lm_eval
    from lm_eval.tasks import TaskManager

    start = time.perf_counter()
    out = lm_eval.simple_evaluate(model="hf", model_args=f"pretrained={path},dtype=float32",
                                  tasks=["bench_choices"], limit=n_docs, batch_size=batch_size, device=device,
                                  task_manager=TaskManager(include_path=str(folder), include_defaults=False),
                                  log_samples=True)
    seconds = time.perf_counter() - start
    samples = {s["doc_id"]: [r[0] for r in s["filtered_resps"]] for s in out["samples"]["bench_choices"]}
    return seconds, out["results"]["bench_choices"]["acc,none"], samples


def run_harness(model: str, folder: Path, n_docs: int, batch_size: int, device: str, backend: str,
                db: Path, model_args: dict | None = None):
    import harness
    from harness.store import Store

    start = time.perf_counter()
    (result,) = harness.run(model=model, task="bench_choices", include_path=[str(folder)], limit=n_docs,
                            batch_size=batch_size, device=device, backend=backend, db=db, quiet=True,
                            model_args=model_args, log=lambda _: None)
    seconds = time.perf_counter() - start
    acc = next(m["value"] for m in result["metrics"] if m["metric"] == "acc")
    samples = {s["doc_id"]: s["loglikelihoods"] for s in Store(db).sample_rows(result["run_id"])}
    return seconds, acc, samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=200)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--vllm", action="store_true", help="also time the vLLM backend (needs vLLM installed)")
    args = parser.parse_args()

    import torch

    from harness.models.tiny import ensure_tiny
    from harness.registry import all_models

    import harness.api  # noqa: F401  (imports are paid before the clocks start, for both sides)
    import harness.backends.hf  # noqa: F401
    import harness.text.evaluate  # noqa: F401
    import lm_eval.evaluator  # noqa: F401
    import lm_eval.models.huggingface  # noqa: F401

    spec = pythia_70m_shape()
    all_models()[spec.name] = spec  # register the benchmark model for this process
    path = str(ensure_tiny(spec))
    work = Path(tempfile.mkdtemp(prefix="harness-bench-"))
    write_task(work, args.docs)
    print(f"machine: {os.cpu_count()} cores, torch threads {torch.get_num_threads()}, device {args.device}")
    print(f"model: pythia-70m shape (6 layers, hidden 512, 8 heads, vocab 50,304), {args.docs} docs x 4 choices, "
          f"batch size {args.batch_size}")

    ref_s, ref_acc, ref = run_lm_eval(path, work, args.docs, args.batch_size, args.device)
    rows = [("lm-eval hf", ref_s, ref_acc, 0.0)]
    variants = [("harness transformers (shared context)", "transformers", None),
                ("harness transformers (per pair)", "transformers", {"shared_context": False})]
    if args.vllm:
        variants.append(("harness vllm", "vllm", None))
    for label, backend, model_args in variants:
        seconds, acc, ours = run_harness(spec.name, work, args.docs, args.batch_size, args.device, backend,
                                         work / f"{label.replace(' ', '_')}.duckdb", model_args)
        worst = max(abs(a - b) for d in ref for a, b in zip(ours[d], ref[d]))
        rows.append((label, seconds, acc, worst))
    print(f"{'implementation':40} {'samples/s':>10} {'ratio':>7} {'acc':>7} {'max |dLL|':>10}")
    for label, seconds, acc, worst in rows:
        rate = args.docs / seconds
        print(f"{label:40} {rate:10.2f} {rate / (args.docs / ref_s):6.2f}x {acc:7.4f} {worst:10.2e}"
              f"{'' if acc == ref_acc else '  ACCURACY DIFFERS'}")


if __name__ == "__main__":
    main()
