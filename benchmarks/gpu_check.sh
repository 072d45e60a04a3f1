#!/usr/bin/env bash
# GPU check (issue 17, item 6): the harness's transformers backend against lm-eval's `hf` model on a
# ~1.1B-parameter LLaMA shape (TinyLlama's: 22 x 2048, 32 heads / 4 KV heads, intermediate 5632, vocab 32,000;
# seeded random weights, no network needed) in bfloat16 on one CUDA GPU: zero-shot and 5-shot multiple choice
# and greedy generation, evaluation only, plus the whole process (harness run vs lm-eval simple_evaluate) on the
# zero-shot task, with one more start of each program (and of lm-eval's command) timed to its first request.
# Prints the ratios, the ideal speed-ups and the fractions of the ideal. About 2-3 minutes on one GPU from a cold
# machine (building the 2.2 GB checkpoint included); meant to stay under 5 (--start-repeats N adds starts).
#
#   bash benchmarks/gpu_check.sh                 # from anywhere; uses the machine's own torch and transformers
#   DOCS=64 bash benchmarks/gpu_check.sh         # fewer documents per workload (default 128)
#   bash benchmarks/gpu_check.sh --dry-run       # parse the options and print the plan; loads nothing (no GPU needed)
#   PYTHON=.venv/bin/python bash benchmarks/gpu_check.sh --dry-run   # the same with another interpreter
#
# Extra arguments go to benchmarks/lm_eval_speed.py. Installs nothing. Without lm-eval installed only the
# harness's side runs (no ratios). In bfloat16 the parity tolerance is 0.25 nats (lm-eval takes its
# log-softmax in the model's dtype); exit status 1 means a parity check failed or a cell errored.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
PYTHON="${PYTHON:-python}"
DOCS="${DOCS:-128}"
JSON_OUT="${OUT:-$(mktemp -d)}/gpu_check.json"

if [[ " $* " != *" --dry-run "* ]]; then
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
    "$PYTHON" -c "import torch; assert torch.cuda.is_available(), 'torch sees no CUDA GPU'"
fi
if ! "$PYTHON" -c "import lm_eval.models.huggingface" 2>/dev/null; then
    echo "gpu_check: lm-eval's hf model is not importable here: only the harness's side runs (no ratios, no parity)"
fi

status=0
"$PYTHON" benchmarks/lm_eval_speed.py --shapes llama-1b --device cuda --dtype bfloat16 \
    --workloads mc0,mc5,gen --docs "$DOCS" --batch-size 16 --whole-process mc0 --start-repeats 1 \
    --json "$JSON_OUT" "$@" || status=$?
echo "gpu_check: exit status $status$([[ -f "$JSON_OUT" ]] && echo "; figures in $JSON_OUT")"
exit "$status"
