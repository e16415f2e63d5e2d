# syntax=docker/dockerfile:1
#
# Forecasting service image: CPU-only torch, the dependencies and the project (pip-installed
# as a package) in /opt/venv, non-root user, HEALTHCHECK on /health, `python -m service` on
# port 8000. The same image runs training (`python -m training ...`), e.g. as the compose
# `trainer`.
#
#   docker build -t recurrent-forecast .
#   docker run -d -p 8000:8000 -e MLFLOW_TRACKING_URI=http://mlflow-host:5000 recurrent-forecast
#
# See docs/deployment.md.

ARG PYTHON_IMAGE=python:3.11-slim

# --------------------------------------------------------------------------- builder
# The dependencies: one venv, cached until pyproject.toml or deploy/constraints.txt change.
FROM ${PYTHON_IMAGE} AS builder

ARG TORCH_VERSION=2.13.0
ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu

# No .pyc from pip (PIP_NO_COMPILE): step 4 writes them only for the modules that are
# actually imported (about 90 MB instead of pip's ~290 MB).
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_NO_COMPILE=1 \
    MPLBACKEND=Agg

# binutils: `strip` for step 3 (builder only)
RUN apt-get update \
    && apt-get install -y --no-install-recommends binutils \
    && rm -rf /var/lib/apt/lists/*

RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

# 1. torch from the CPU index first, exact pin: any other version (or an unpinned torch)
#    resolves to the multi-GB CUDA build from PyPI.
RUN pip install "torch==${TORCH_VERSION}" --extra-index-url "${TORCH_INDEX}"

# pyproject.toml extras installed with the dependencies. The default image serves and trains
# without them (0.99 GB); the compose trainer is built with --build-arg EXTRAS=train
# (statsforecast: its runs log AutoETS / AutoTheta / AutoARIMA next to the candidates; 1.26 GB).
# Declared here, after step 1: an ARG before a RUN is part of that step's cache key.
ARG EXTRAS=

# 2. The runtime dependencies and EXTRAS, read from pyproject.toml only, so this layer stays
#    cached while the sources change; versions constrained to the tested dev venv's freeze
#    (deploy/constraints.txt). torch is already satisfied by the +cpu wheel. The runtime
#    dependencies name `mlflow-skinny` (the client), not the full `mlflow` server package.
WORKDIR /src
COPY pyproject.toml deploy/constraints.txt ./
RUN EXTRAS="${EXTRAS}" python -c "import os, tomllib; p = tomllib.load(open('pyproject.toml', 'rb'))['project']; print('\n'.join(p['dependencies'] + [r for e in os.environ['EXTRAS'].split() for r in p['optional-dependencies'][e]]))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt -c constraints.txt \
    && python -c "import torch, sys; v = torch.__version__; print('torch', v); sys.exit(0 if v.endswith('+cpu') else 'torch is not the CPU build: ' + v)" \
    && if pip list 2>/dev/null | grep -iE '^(nvidia-|mlflow )'; then echo 'CUDA packages or the full mlflow were installed' >&2; exit 1; fi \
    && pip check

# 3. Slim the venv (measured: 1.23 GB -> 0.78 GB):
#    - delete torch's C++ test binaries and libraries, C++ headers (only for compiling
#      extensions or torch.compile's C++ backend) and protoc, and every test suite bundled
#      in the wheels (directories named `tests`);
#    - strip the symbol tables of every shared library (libtorch alone -89 MB; .dynsym
#      stays, so dynamic linking and Python tracebacks are unaffected, C/C++ backtraces
#      lose function names). A library that no longer loads once stripped is put back:
#      strip breaks some that auditwheel rewrote with patchelf (numpy's bundled OpenBLAS:
#      "ELF load command address/offset not page-aligned");
# 4. byte-compile only what the service and training import (deploy/warm_imports.py, which
#    also checks that the stripped libraries still load and compute): the non-root user
#    cannot write to /opt/venv, so without .pyc every start would recompile those modules
#    (measured: 12 s -> 25 s to import the app); modules off that list are compiled in
#    memory when first imported.
#    pip stays (the runtime stage installs the project with it; `pip list` in the image).
COPY deploy/warm_imports.py /tmp/warm_imports.py
RUN set -eux; \
    sp=/opt/venv/lib/python3.11/site-packages; \
    rm -rf "$sp/torch/test" "$sp/torch/include" \
           "$sp"/torch/bin/*Test "$sp"/torch/bin/test_* "$sp"/torch/bin/protoc* "$sp"/torch/lib/*_test.so; \
    find "$sp" -depth -type d -name tests -prune -exec rm -rf {} +; \
    find "$sp" -type f -name '*.so*' | while read -r lib; do \
        cp "$lib" /tmp/unstripped; \
        strip --strip-unneeded "$lib"; \
        python -c 'import ctypes, sys; ctypes.CDLL(sys.argv[1])' "$lib" 2>/dev/null \
            || { echo "not stripped (does not load stripped): $lib"; cp /tmp/unstripped "$lib"; }; \
    done; \
    rm /tmp/unstripped; \
    find /opt/venv -name '*.pyc' -delete; \
    python /tmp/warm_imports.py; \
    rm /tmp/warm_imports.py

# --------------------------------------------------------------------------- wheel
# The project as a wheel: models/, training/, service/, and the built-in configs/ and
# data/ as package data (training/builtin/, see pyproject.toml).
FROM builder AS wheel
COPY pyproject.toml README.md ./
COPY models ./models
COPY training ./training
COPY service ./service
COPY configs ./configs
COPY data ./data
RUN pip wheel --no-deps --wheel-dir /wheels .

# --------------------------------------------------------------------------- runtime
FROM ${PYTHON_IMAGE} AS runtime

LABEL org.opencontainers.image.title="recurrent-forecast" \
      org.opencontainers.image.description="Stacked LSTM/GRU forecasters served by FastAPI, models from an MLflow registry"

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    HOST=0.0.0.0 \
    PORT=8000 \
    MPLBACKEND=Agg \
    MPLCONFIGDIR=/tmp/matplotlib \
    HOME=/home/app

RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /home/app --create-home --shell /usr/sbin/nologin app

# The dependencies (one large layer that changes only with them) ...
COPY --from=builder /opt/venv /opt/venv

# ... and the project on top (a small layer per code change), byte-compiled here because
# the app user cannot write __pycache__ into the venv.
COPY --from=wheel /wheels /tmp/wheels
RUN pip install --no-deps --no-compile /tmp/wheels/*.whl \
    && rm -rf /tmp/wheels \
    && python -m compileall -q /opt/venv/lib/python3.11/site-packages/models \
        /opt/venv/lib/python3.11/site-packages/training /opt/venv/lib/python3.11/site-packages/service \
    && python -c "import pathlib, sys; from training.config import BUILTIN_SERIES, TrainConfig; sys.exit(0 if all(pathlib.Path(TrainConfig.builtin(s).data).is_file() for s in BUILTIN_SERIES) else 'built-in configs/data not packaged')" \
    && mkdir -p /app && chown app:app /app

# Working directory of the app user: the default local store (sqlite:///mlflow.db and its
# mlruns/) lands here when no MLFLOW_TRACKING_URI is given.
WORKDIR /app
USER app

EXPOSE 8000

HEALTHCHECK --interval=5s --timeout=3s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:%s/health' % os.environ.get('PORT', '8000'), timeout=2).status == 200 else 1)"]

CMD ["python", "-m", "service"]
