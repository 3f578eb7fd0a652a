# RNN Zoo. `make` (or `make help`) lists the targets. Every target installs what it needs first.
.DEFAULT_GOAL := help
SHELL := /bin/bash

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# PyTorch, Keras' third backend, is installed only by the targets that use it (it is large). The
# release the tests run on; TORCH_PIP_ARGS='--index-url https://download.pytorch.org/whl/cpu' takes
# its CPU build where the package index would give the CUDA one.
TORCH_SPEC ?= torch==2.13.0
TORCH_PIP_ARGS ?=
TORCH_STAMP := $(VENV)/.torch-installed
GRID ?= quick
SPACE ?= quick
WORKERS ?= 1
ARGS ?=
# The backend of `make repro`: whole music sequences at batch 8 are many small steps, where JAX's
# compiled loop is several times faster than TensorFlow's on a CPU (docs/literature.md). Each
# backend draws its own weights for a seed; runs already done on another are not trained again.
REPRO_BACKEND ?= jax
REPRO_PARTS ?= chung bai
# Quiet TensorFlow's C++ logging (its errors come back as Python exceptions); Python warnings still show.
export TF_CPP_MIN_LOG_LEVEL ?= 3
export PYTHONUNBUFFERED := 1

.PHONY: help install install-torch test test-tf test-jax test-torch run experiments report search repro report-search tasks grids spaces settings bench gradients wheelhouse gpu-check tensorboard dashboard list docs clean example bench-files

help: ## list the targets with a one-line description
	@echo "RNN Zoo: make <target> [GRID=quick|repro-cpu|repro-music|repro-bai|memory|standard|paper|smoke] [SPACE=quick|modern|greff|chung] [WORKERS=N] [ARGS='...']"
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  \033[36m%-12s\033[0m %s\n", $$1, $$2}'

$(STAMP): requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; v = sys.version_info[:2]; ok = (3, 10) <= v <= (3, 12); \
		print(f"using Python {v[0]}.{v[1]}" if ok else f"Python 3.10 to 3.12 is needed, {sys.executable} is {v[0]}.{v[1]}: run make PYTHON=python3.12 ..."); \
		sys.exit(0 if ok else 1)'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	@touch $(STAMP)

install: $(STAMP) ## create .venv with the running Python and install requirements.txt (done by every target)

$(TORCH_STAMP): $(STAMP)
	$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install --quiet "$(TORCH_SPEC)" $(TORCH_PIP_ARGS)
	@touch $(TORCH_STAMP)

install-torch: $(TORCH_STAMP) ## add PyTorch to .venv for KERAS_BACKEND=torch (TORCH_SPEC, TORCH_PIP_ARGS; done by make test)

# With a subset of the tests in ARGS, a session left with none to run (pytest's exit 5) is not a failure.
test: $(STAMP) $(TORCH_STAMP) ## run the test suite on TensorFlow and the backend-sensitive tests on JAX and torch, in two lanes (tests/conftest.py)
	@tmp=$$(mktemp -d "$${TMPDIR:-/tmp}/rnnzoo-tests.XXXXXX"); \
	outcome() { if [ $$1 -eq 5 ] && [ -n "$(if $(strip $(ARGS)),subset)" ]; then echo 0; else echo $$1; fi; }; \
	session() { name=$$1; shift; "$$@" -p no:cacheprovider --basetemp=$$tmp/$$name $(ARGS) > $$tmp/$$name.log 2>&1; \
	  outcome $$? > $$tmp/$$name.status; }; \
	(session jax env KERAS_BACKEND=jax $(PY) -m pytest -q -m backend; \
	 session torch env KERAS_BACKEND=torch $(PY) -m pytest -q -m backend; \
	 session tf2 env RNNZOO_TEST_LANE=2 KERAS_BACKEND=tensorflow $(PY) -m pytest -q) & others=$$!; \
	RNNZOO_TEST_LANE=1 KERAS_BACKEND=tensorflow $(PY) -m pytest -q -p no:cacheprovider --basetemp=$$tmp/tf1 $(ARGS); tf=$$(outcome $$?); \
	wait $$others; \
	echo "--- the rest of the suite on TensorFlow (RNNZOO_TEST_LANE=2 pytest) ---"; cat $$tmp/tf2.log; \
	echo "--- the backend-sensitive tests on JAX (KERAS_BACKEND=jax pytest -m backend) ---"; cat $$tmp/jax.log; \
	echo "--- the backend-sensitive tests on torch (KERAS_BACKEND=torch pytest -m backend) ---"; cat $$tmp/torch.log; \
	codes="TensorFlow exit $$tf and $$(cat $$tmp/tf2.status), JAX exit $$(cat $$tmp/jax.status), torch exit $$(cat $$tmp/torch.status)"; \
	failed=$$(( tf + $$(cat $$tmp/tf2.status) + $$(cat $$tmp/jax.status) + $$(cat $$tmp/torch.status) )); \
	rm -rf $$tmp; \
	if [ $$failed -ne 0 ]; then echo "tests failed: $$codes"; exit 1; fi

test-tf: $(STAMP) ## run the whole test suite on the TensorFlow backend
	KERAS_BACKEND=tensorflow $(PY) -m pytest -q $(ARGS)

test-jax: $(STAMP) ## run the backend-sensitive tests (tests marked `backend`) on the JAX backend
	KERAS_BACKEND=jax $(PY) -m pytest -q -m backend $(ARGS)

test-torch: $(TORCH_STAMP) ## run the backend-sensitive tests (tests marked `backend`) on the torch backend
	KERAS_BACKEND=torch $(PY) -m pytest -q -m backend $(ARGS)

list: $(STAMP) ## list the registered variants with parameter counts
	$(PY) -m zoo list

run: $(STAMP) ## train the default comparison (GRID=quick) on this machine, then write its report (ARGS go to both)
	@status=0; $(PY) -m experiments run --grid $(GRID) --workers $(WORKERS) $(ARGS) || status=$$?; \
	$(PY) -m experiments report --grid $(GRID) $(ARGS) || exit $$?; exit $$status

example: $(STAMP) ## your own data end to end: scikit-learn's digits written as a CSV, declared in a task file, four cells compared (examples/digits/)
	$(PY) examples/digits/make_csv.py
	$(PY) -m experiments check-task examples/digits/digits.toml
	@$(MAKE) --no-print-directory run GRID=examples/digits/digits-grid.toml WORKERS=$(WORKERS)

bench-files: $(STAMP) ## peak memory of converting a generated 1 GB CSV of one's own data, beside pandas reading it whole (MB=1000)
	$(PY) -m experiments.bench_files --megabytes $(or $(MB),1000)

experiments: $(STAMP) ## train every run of GRID not yet done (WORKERS=N parallel workers; ARGS='--set train.epochs=3')
	$(PY) -m experiments run --grid $(GRID) --workers $(WORKERS) $(ARGS)

report: $(STAMP) ## write reports/GRID/ (tables, plots, index.html) from the results store; trains nothing (ARGS='--set ...')
	$(PY) -m experiments report --grid $(GRID) $(ARGS)

search: $(STAMP) ## Greff's random search of each variant's settings (SPACE=quick|modern|greff|chung), then its report
	@status=0; $(PY) -m experiments search --space $(SPACE) --workers $(WORKERS) $(ARGS) || status=$$?; \
	$(PY) -m experiments report-search --space $(SPACE) $(ARGS) || exit $$?; exit $$status

repro: $(STAMP) ## Chung et al. 2014 on the four polyphonic benchmarks at their setting (learning-rate search, 3 seeds) and Bai et al.'s JSB rows on REPRO_BACKEND (jax), then the literature pages (ARGS="--only 'task=jsb_chorales'" for JSB alone; REPRO_PARTS=chung with a filter Bai's grid lacks, e.g. task=piano_midi)
	@for part in $(REPRO_PARTS); do case $$part in chung|bai) ;; \
	  *) echo "REPRO_PARTS: unknown part '$$part'; valid parts: chung, bai" >&2; exit 2;; esac; done; \
	status=0; export KERAS_BACKEND=$(REPRO_BACKEND); \
	if [ -n "$(filter chung,$(REPRO_PARTS))" ]; then \
	  $(PY) -m experiments search --space chung --workers $(WORKERS) $(ARGS) || status=$$?; fi; \
	if [ -n "$(filter bai,$(REPRO_PARTS))" ]; then \
	  $(PY) -m experiments run --grid repro-bai --workers $(WORKERS) $(ARGS) || status=$$?; fi; \
	if [ -n "$(filter chung,$(REPRO_PARTS))" ]; then \
	  $(PY) -m experiments report-search --space chung $(ARGS) || exit $$?; fi; \
	if [ -n "$(filter bai,$(REPRO_PARTS))" ]; then \
	  $(PY) -m experiments report --grid repro-bai $(ARGS) || exit $$?; fi; \
	exit $$status

report-search: $(STAMP) ## write reports/search-SPACE/ from the results store; trains nothing
	$(PY) -m experiments report-search --space $(SPACE) $(ARGS)

wheelhouse: $(STAMP) ## download, here, the wheels and data a GPU machine without internet needs (.wheelhouse/, JAX + Python 3.12)
	$(PY) -m experiments.gpu_check wheelhouse

gpu-check: ## on a GPU machine (no internet, JAX, Python 3.12): install from .wheelhouse/, bench and train on JAX; writes reports/gpu/
	KERAS_BACKEND=jax $(PYTHON) -m experiments.gpu_check run $(ARGS)

tensorboard: $(STAMP) ## serve the TensorBoard logs of GRID's runs (scalars per epoch, settings under HPARAMS)
	$(VENV)/bin/tensorboard --logdir results/$(GRID) $(ARGS)

dashboard: $(STAMP) ## serve optuna-dashboard on the results store (studies, trials, importance)
	$(VENV)/bin/optuna-dashboard sqlite:///results/store.db $(ARGS)

bench: $(STAMP) ## time every variant's training step and inference side by side; writes reports/bench/ (ARGS='--variants lstm,cifg')
	$(PY) -m zoo.bench $(ARGS)

gradients: $(STAMP) ## how far back the loss gradient reaches, per variant (VARIANTS='vanilla irnn lstm gru'); writes reports/gradients/
	@mkdir -p reports/gradients
	set -o pipefail; $(PY) -m zoo gradients $(or $(VARIANTS),vanilla irnn lstm gru) --out reports/gradients/gradient_flow.png $(ARGS) | tee reports/gradients/gradients.txt

tasks: $(STAMP) ## list the tasks with topology, metric, baseline and sizes
	$(PY) -m experiments tasks

grids: $(STAMP) ## list the experiment grids
	$(PY) -m experiments grids

spaces: $(STAMP) ## list the search spaces
	$(PY) -m experiments spaces

settings: $(STAMP) ## list every model and training setting with its default and valid values
	$(PY) -m experiments settings

docs: $(STAMP) ## build the documentation (docs/ and the docstrings) into site/; warnings are errors
	$(VENV)/bin/mkdocs build --strict

clean: ## remove caches and build files (never results, data or reports)
	find . -path ./$(VENV) -prune -o -type d \( -name __pycache__ -o -name .pytest_cache -o -name '*.egg-info' \) -print -exec rm -rf {} +
	rm -rf build dist site
