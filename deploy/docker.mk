# Docker targets, included from the Makefile (`include deploy/docker.mk`); also usable
# alone: make -f deploy/docker.mk docker-build. See docs/deployment.md.
#
#   make docker-build                      # the app image (DOCKER_IMAGE=recurrent-forecast:latest)
#   make docker-run [DOCKER_STORE=dir]     # serve: MLFLOW_TRACKING_URI, or a mounted SQLite store
#   make compose-up [REPLICAS=2]           # postgres + mlflow + trainer + REPLICAS api behind HAProxy
#                                          # on :8000 (COMPOSE_SMOKE=1: tiny training, for a quick check)
#   make compose-roll                      # replace the api replicas one at a time
#   make compose-down / compose-clean      # stop (keep the data) / stop and delete the volumes
#   make compose-backup [BACKUP=dir]       # pg_dump + artifact volume; compose-restore BACKUP=dir
#   make compose-test                      # the stack under load: promotion, roll, restarts, backup
#   make container-test                    # pytest -m container (builds and runs the image)
#   make docker-lock                       # refresh deploy/constraints.txt from the dev venv

DOCKER ?= docker
DOCKER_IMAGE ?= recurrent-forecast:latest
DOCKER_PORT ?= 8000
# a tracking server URI, e.g. http://mlflow.internal:5000; or set DOCKER_STORE to an absolute
# directory holding mlflow.db + mlruns/ (written by `python -m training` run in that directory)
MLFLOW_TRACKING_URI ?=
DOCKER_STORE ?=
# podman-backed docker (../shared/container/setup.sh) needs deploy/compose.podman.yml (see
# there); COMPOSE_SMOKE=1 adds deploy/compose.smoke.yml (tiny training, for checks).
COMPOSE_FILES ?= -f docker-compose.yml \
	$(if $(shell $(DOCKER) --version 2>/dev/null | grep -i podman),-f deploy/compose.podman.yml) \
	$(if $(COMPOSE_SMOKE),-f deploy/compose.smoke.yml)
COMPOSE ?= $(DOCKER) compose $(strip $(COMPOSE_FILES))
REPLICAS ?= 2
BACKUP ?= backups/$(shell date +%Y%m%d-%H%M%S)
COMPOSE_SH = DOCKER="$(DOCKER)" COMPOSE="$(COMPOSE)" deploy/compose.sh
DOCKER_VENV_PY ?= $(or $(wildcard .venv/bin/python),python3)

.PHONY: docker-build docker-run compose-secrets compose-up compose-roll compose-down compose-clean \
	compose-backup compose-restore compose-test container-test docker-lock

docker-build:
	$(DOCKER) build -t $(DOCKER_IMAGE) .

# DOCKER_STORE is mounted at the same absolute path: the SQLite database records artifact
# locations as absolute paths.
docker-run:
	$(DOCKER) run --rm -p $(DOCKER_PORT):8000 \
		$(if $(DOCKER_STORE),-v $(abspath $(DOCKER_STORE)):$(abspath $(DOCKER_STORE)):ro -e MLFLOW_TRACKING_URI=sqlite:///$(abspath $(DOCKER_STORE))/mlflow.db,$(if $(MLFLOW_TRACKING_URI),-e MLFLOW_TRACKING_URI=$(MLFLOW_TRACKING_URI))) \
		$(if $(FORECAST_MODELS),-e FORECAST_MODELS=$(FORECAST_MODELS)) \
		$(if $(FORECAST_API_KEY),-e FORECAST_API_KEY) \
		$(DOCKER_IMAGE)

compose-secrets:
	$(COMPOSE_SH) secrets

compose-up:
	$(COMPOSE_SH) up $(REPLICAS)

compose-roll:
	$(COMPOSE_SH) roll

compose-down:
	$(COMPOSE_SH) down

compose-clean:
	$(COMPOSE_SH) clean

compose-backup:
	$(COMPOSE_SH) backup $(BACKUP)

compose-restore:
	$(COMPOSE_SH) restore $(BACKUP) $(REPLICAS)

# the stack from empty volumes under load (benchmarks/results/compose.md); minutes, not in `make test`
compose-test:
	$(DOCKER_VENV_PY) -m benchmarks.compose

container-test:
	$(DOCKER_VENV_PY) -m pytest -m container -s -q tests/test_container.py

docker-lock:
	{ echo "# Versions the image installs: a pip freeze of the project's tested development venv"; \
	  echo "# (.venv), used as pip constraints (-c) so the image gets the same versions the tests ran"; \
	  echo "# with instead of whatever PyPI has today. Regenerate: make -f deploy/docker.mk docker-lock"; \
	  $(DOCKER_VENV_PY) -m pip freeze --exclude-editable | grep -vE '^(#|-e |recurrent-forecast)'; \
	} > deploy/constraints.txt
