# Everything runs from the project's own virtualenv; `make install` creates it.
# torch is pinned to 2.13.0 (CPU). Where pip would otherwise fetch the CUDA build, set
#   TORCH_INDEX=https://download.pytorch.org/whl/cpu
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
TORCH_INDEX ?=
PORT ?= 8000
# models trained side by side (one process and one core each; the LSTM and GRU of a series are independent)
JOBS ?= 2

# make train [SERIES=price] [CELL=gru] | make train DATA=path.csv NAME=name [ID=store] [FREQ=D] [SEASON=7] [HORIZON=7] [CELL=lstm] [FILL=ffill] [JOBS=1] [FROM_SCRATCH=1]
TRAIN_ARGS := $(if $(DATA),--csv "$(DATA)" --name "$(NAME)") $(if $(ID),--id-column "$(ID)") $(if $(SERIES),--series $(SERIES)) \
	$(if $(CELL),--cell $(CELL)) $(if $(FREQ),--freq $(FREQ)) $(if $(SEASON),--season $(SEASON)) \
	$(if $(FILL),--fill $(FILL)) $(if $(FROM_SCRATCH),--from-scratch) \
	$(if $(HORIZON),--horizon $(HORIZON)) $(if $(EPOCHS),--max-epochs $(EPOCHS)) --jobs $(JOBS) $(ARGS)

.PHONY: install run train serve mlflow-serve mlflow-ui test lint format benchmark bench-serve reliability corpus pretrain clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0 $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX))
	$(PY) -m pip install --quiet -e '.[train,dev,bench,corpus]'
	touch $@

## the main job: install, train the built-in models if none is registered, then serve
run: install
	$(PY) -m training --if-missing --jobs $(JOBS)
	PORT=$(PORT) $(PY) -m service

train: install
	$(PY) -m training $(TRAIN_ARGS)

serve: install
	PORT=$(PORT) $(PY) -m service

# MLflow's own server and UI on the same store (`mlflow models serve` runs uvicorn from PATH:
# the venv's bin goes first, so these work without activating the venv)
MODEL ?= passengers
MLFLOW_SERVE_PORT ?= 5001
MLFLOW_STORE ?= $(or $(MLFLOW_TRACKING_URI),sqlite:///mlflow.db)
mlflow-serve: install
	PATH="$(abspath $(VENV))/bin:$$PATH" MLFLOW_TRACKING_URI=$(MLFLOW_STORE) \
		$(VENV)/bin/mlflow models serve -m "models:/$(MODEL)@champion" --env-manager local --port $(MLFLOW_SERVE_PORT)

mlflow-ui: install
	$(VENV)/bin/mlflow ui --backend-store-uri $(MLFLOW_STORE) --port $(MLFLOW_SERVE_PORT)

## the test suite (what .ci/run calls); pytest's exit 5 (no tests collected) fails too
test: install
	$(PY) -m ruff check .
	$(PY) -m pytest -q -m "not container"

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: install
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

## every candidate against the baselines on the built-in series (their configs, and as user CSVs),
## sets 1-5 and the hold-out set; the base zero-shot; the goals table (benchmarks/results/, ~55 min
## on 2 cores)
benchmark: install
	$(PY) -m benchmarks.accuracy --cells lstm gru --no-extra --output benchmarks/results/builtin
	$(PY) -m benchmarks.accuracy --series --extra-dir data --output benchmarks/results/builtin_csv
	$(PY) -m benchmarks.accuracy --series --output benchmarks/results
	$(PY) -m benchmarks.accuracy --series --extra-dir benchmarks/data/holdout --output benchmarks/results/holdout
	$(PY) -m benchmarks.zero_shot
	$(PY) -m benchmarks.zero_shot --data-dir benchmarks/data/holdout --output-name zero_shot_holdout
	$(PY) -m benchmarks.goals

bench-serve: install
	$(PY) -m benchmarks.serving
	$(PY) -m benchmarks.goals

reliability: install
	$(PY) -m benchmarks.reliability

## the pretraining corpus: .cache/corpus/corpus.npz, training/corpus/manifest.csv and excluded.csv
## (make corpus ARGS="--kernel-synth 2000 --seed 1"; python -m training.corpus --help)
corpus: install
	$(PY) -m training.corpus $(ARGS)

CORPUS_FILE = .cache/corpus/corpus.npz
$(CORPUS_FILE):
	$(MAKE) corpus

## pretrain the global base on the corpus (built first when missing): two networks, weights,
## config and calibration into models/base/ and, for seasons of 24 and longer and rows without one, with the in-window
## autoregression among its candidates, into models/base/long_seasons/; checkpoints in
## .cache/pretrain/ (a rerun resumes from them), each run in MLflow
## (make pretrain ARGS="--devices 2"; python -m training.pretrain --help)
pretrain: install $(CORPUS_FILE)
	$(PY) -m training.pretrain $(ARGS)
	$(PY) -m training.pretrain --long-seasons $(ARGS)

clean:
	rm -rf .pytest_cache .ruff_cache .hypothesis lightning_logs

-include deploy/docker.mk
