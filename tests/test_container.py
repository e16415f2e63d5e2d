"""Container smoke test: build the image, serve a tiny model from a mounted SQLite store,
and check the container answers like the same model loaded in-process.

Needs a `docker` command (real Docker, or ../shared/container/setup.sh's podman shim);
skipped otherwise. The checks of docker-compose.yml at the end read the file only and run
in `make test`; the stack itself is exercised by `make compose-test` (benchmarks/compose.py). Slow: a warm build takes ~15-30 s, a cold one several minutes.

    pytest -m container -s tests/test_container.py

Environment:
    CONTAINER_TEST_IMAGE   use this already-built image instead of building one
    CONTAINER_TEST_KEEP=1  leave the container running after the test (for debugging)
"""

from __future__ import annotations

import json
import math
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
IMAGE = "recurrent-forecast:container-test"
MODEL = "passengers"
HORIZON = 12
HEALTHY_TIMEOUT = 120.0
READY_TIMEOUT = 60.0


def _docker(*args: str, timeout: float = 60, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(
            f"docker {' '.join(args)} failed ({result.returncode}):\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        )
    return result


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _http(method: str, url: str, body: dict | None = None, timeout: float = 10) -> tuple[int, dict]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        url, data=data, method=method, headers={"content-type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


@pytest.fixture(scope="module")
def docker() -> str:
    path = shutil.which("docker")
    if path is None:
        pytest.skip("no `docker` command: install Docker or run ../shared/container/setup.sh (podman shim)")
    try:
        probe = subprocess.run(["docker", "info"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as error:
        pytest.skip(f"`docker info` did not answer: {error}")
    if probe.returncode != 0:
        pytest.skip(f"`docker info` failed, no usable engine: {probe.stderr.strip()[-300:]}")
    return path


@pytest.fixture(scope="module")
def timings() -> dict[str, float]:
    measured: dict[str, float] = {}
    yield measured
    print("\ncontainer smoke test timings (s): " + ", ".join(f"{k}={v:.1f}" for k, v in measured.items()))


@pytest.fixture(scope="module")
def image(docker: str, timings: dict[str, float]) -> str:
    prebuilt = os.environ.get("CONTAINER_TEST_IMAGE")
    if prebuilt:
        _docker("image", "inspect", prebuilt)
        return prebuilt
    started = time.perf_counter()
    _docker("build", "-t", IMAGE, str(ROOT), timeout=3600)
    timings["build"] = time.perf_counter() - started
    return IMAGE


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory, timings: dict[str, float]) -> Path:
    """A tracking store with one tiny registered local model, trained on the host (the base
    candidates are exercised by `test_container_trains`).

    The SQLite database records artifact locations as absolute host paths, so the
    container mounts this folder at the same absolute path."""
    directory = tmp_path_factory.mktemp("container-store")
    started = time.perf_counter()
    result = subprocess.run(
        [
            sys.executable, "-m", "training",
            "--series", MODEL, "--cell", "lstm", "--max-epochs", "2", "--ensemble-size", "1", "--from-scratch",
            "--no-progress", "--tracking-uri", f"sqlite:///{directory}/mlflow.db",
        ],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=900,
    )  # fmt: skip
    assert result.returncode == 0, f"tiny training failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    timings["train_tiny"] = time.perf_counter() - started
    # pytest's temp folders are 0700; the container's user (uid 10001) must be able to read
    # the mounted folder (only it: the container does not see its host parents).
    for path in [directory, *directory.rglob("*")]:
        path.chmod(path.stat().st_mode | (0o055 if path.is_dir() else 0o044))
    return directory


def _reference_forecast(store: Path) -> list[float]:
    """The champion loaded in-process with models.ForecasterArtifact, forecast from its stored tail."""
    import torch
    from mlflow import MlflowClient

    from models import ForecasterArtifact

    uri = f"sqlite:///{store}/mlflow.db"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    version = client.get_model_version_by_alias(MODEL, "champion")
    location = client.get_model_version_download_uri(MODEL, version.version)
    local = Path(location.removeprefix("file://"))
    configs = list(local.rglob("forecaster.json"))
    assert len(configs) == 1, f"expected one forecaster.json under {local}, found {configs}"
    artifact = ForecasterArtifact.load(configs[0].parent)
    history = torch.tensor([artifact.metadata.tail], dtype=torch.float32)
    return artifact.predict(history, HORIZON).point[0].tolist()


def _wait_healthy(name: str, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    status = ""
    while time.monotonic() < deadline:
        state = _docker("inspect", "-f", "{{.State.Status}} {{.State.Health.Status}}", name).stdout.split()
        running, status = state[0], state[-1]
        if running != "running":
            logs = _docker("logs", name, check=False)
            raise AssertionError(
                f"container stopped ({running}):\n{logs.stdout[-3000:]}\n{logs.stderr[-3000:]}"
            )
        if status == "healthy":
            return status
        time.sleep(0.5)
    logs = _docker("logs", name, check=False)
    raise AssertionError(f"not healthy after {timeout} s (last: {status}):\n{logs.stderr[-3000:]}")


@pytest.mark.container
def test_image_metadata(image: str) -> None:
    inspected = json.loads(_docker("image", "inspect", image).stdout)[0]
    config = inspected["Config"]
    # Docker reports the health check under Config, podman at the top level.
    healthcheck = config.get("Healthcheck") or inspected.get("Healthcheck") or {}
    assert config.get("User") not in (None, "", "root", "0"), config.get("User")
    assert "8000/tcp" in (config.get("ExposedPorts") or {})
    assert "/health" in " ".join(healthcheck.get("Test") or []), (
        f"image has no /health HEALTHCHECK: {healthcheck}"
    )
    assert config.get("Cmd") == ["python", "-m", "service"]


@pytest.mark.container
def test_container_trains(image: str, timings: dict[str, float]) -> None:
    """The image trains too (the compose trainer's job) with its runtime dependencies only:
    the shipped base, the built-in config and data come from the installed package (no source
    checkout) - the base is registered and the series gets its base candidates and their ensemble
    next to the local one - MLflow is the client-only `mlflow-skinny`, and the logged model says so."""
    started = time.perf_counter()
    result = _docker(
        "run", "--rm", image, "sh", "-c",
        f"python -m training --series {MODEL} --cell lstm --max-epochs 1 --ensemble-size 1"
        " --finetune-max-epochs 1 --if-missing --no-progress"
        " && find mlruns -name requirements.txt -exec cat {} +",
        timeout=900,
    )  # fmt: skip
    timings["train_in_container"] = time.perf_counter() - started
    assert "registered the base model" in result.stdout, result.stdout[-3000:]
    assert "trained 4 model(s)" in result.stdout, result.stdout[-3000:]
    assert f"{MODEL}: the champion rule chose" in result.stdout, result.stdout[-3000:]
    requirements = {line.split("==")[0] for line in result.stdout.splitlines() if "==" in line}
    assert {"torch", "mlflow-skinny", "pandas", "numpy"} <= requirements, result.stdout[-3000:]
    assert "mlflow" not in requirements, "the image has the full mlflow package"


@pytest.mark.container
def test_container_serves_like_in_process(image: str, store: Path, timings: dict[str, float]) -> None:
    name = f"forecast-smoke-{uuid.uuid4().hex[:8]}"
    port = _free_port()
    started = time.perf_counter()
    try:
        _docker(
            "run", "-d", "--name", name, "-p", f"{port}:8000",
            "-v", f"{store}:{store}:ro",
            "-e", f"MLFLOW_TRACKING_URI=sqlite:///{store}/mlflow.db",
            "-e", f"FORECAST_MODELS={MODEL}",
            image,
        )  # fmt: skip
        _wait_healthy(name, HEALTHY_TIMEOUT)
        timings["run_to_healthy"] = time.perf_counter() - started

        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            status, body = _http("GET", f"{base}/ready")
            if status == 200 or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert status == 200, f"/ready: {status} {body}"
        timings["run_to_ready"] = time.perf_counter() - started

        status, answer = _http("POST", f"{base}/forecast", {"model": MODEL, "horizon": HORIZON})
        assert status == 200, answer
        assert answer["horizon"] == HORIZON
        assert answer["model"]["name"] == MODEL
        served = answer["forecast"]
        expected = _reference_forecast(store)
        assert len(served) == len(expected) == HORIZON
        for got, want in zip(served, expected, strict=True):
            assert math.isclose(got, want, rel_tol=1e-4, abs_tol=1e-4), (served, expected)

        uid = _docker("exec", name, "id", "-u").stdout.strip()
        assert uid.isdigit() and int(uid) != 0, f"service runs as uid {uid!r}"

        packages = _docker(
            "exec", name, "python", "-c",
            "import importlib.metadata as m, torch; "
            "print(torch.__version__); print(' '.join(d.metadata['Name'] for d in m.distributions()))",
        ).stdout.split("\n", 1)  # fmt: skip
        assert packages[0].endswith("+cpu"), f"torch {packages[0]} is not the CPU build"
        assert not [p for p in packages[1].split() if p.lower().startswith("nvidia")], (
            "CUDA packages in image"
        )
        # the wheel ships both networks of the base (package data: models/base/long_seasons/)
        shipped = _docker(
            "exec", name, "python", "-c",
            "from models.base_artifact import BaseArtifact; print(BaseArtifact.load().long_seasons.config.priors)",
        ).stdout  # fmt: skip
        assert "autoregressive" in shipped, shipped
        timings["test_total"] = time.perf_counter() - started
    finally:
        if os.environ.get("CONTAINER_TEST_KEEP") != "1":
            _docker("rm", "-f", name, check=False)


# ---------------------------------------------------------------- docker-compose.yml, read only

COMPOSE_FILE = ROOT / "docker-compose.yml"
SERVICES = ("postgres", "mlflow", "trainer", "api", "lb")


@pytest.fixture(scope="module")
def compose() -> dict:
    yaml = pytest.importorskip("yaml")
    return yaml.safe_load(COMPOSE_FILE.read_text())


def test_compose_every_service_has_limits_and_a_restart_policy(compose: dict) -> None:
    assert set(compose["services"]) == set(SERVICES)
    for name, service in compose["services"].items():
        limits = service["deploy"]["resources"]["limits"]
        assert limits.get("cpus") and limits.get("memory"), name
        assert service.get("restart") in {"unless-stopped", "always", "on-failure:3"}, name


def test_compose_only_the_load_balancer_is_published(compose: dict) -> None:
    published = {name for name, service in compose["services"].items() if service.get("ports")}
    assert published == {"lb"}
    assert compose["networks"]["backend"]["internal"] is True
    for name in ("postgres", "mlflow", "api", "trainer"):
        assert compose["services"][name]["networks"] == ["backend"], name


def test_compose_holds_no_secret(compose: dict) -> None:
    """Passwords and keys come from secret files only: never a value or a default in the file."""
    text = COMPOSE_FILE.read_text()
    assert "POSTGRES_PASSWORD:" not in text and "POSTGRES_PASSWORD=" not in text
    assert "FORECAST_API_KEY:" not in text and "FORECAST_API_KEY=$" not in text
    assert "mlflow@postgres" in text and ":mlflow@" not in text  # no password in the URI
    assert {s["file"] for s in compose["secrets"].values()} == {
        "deploy/secrets/postgres_password",
        "deploy/secrets/api_key",
    }
    api_command = " ".join(compose["services"]["api"]["command"])
    assert "/run/secrets/api_key" in api_command


def test_compose_api_follows_the_champion_and_matches_threads_to_cpus(compose: dict) -> None:
    api = compose["services"]["api"]
    env = api["environment"]
    assert env["FORECAST_POLL_SECONDS"].startswith("${FORECAST_POLL_SECONDS:-")
    assert env["FORECAST_SHUTDOWN_DRAIN_SECONDS"].startswith("${FORECAST_SHUTDOWN_DRAIN_SECONDS:-")
    assert env["FORECAST_TORCH_THREADS"] == api["deploy"]["resources"]["limits"]["cpus"].strip('"')


def test_compose_trainer_has_the_baselines_and_the_api_does_not(compose: dict) -> None:
    """The trainer's runs log AutoETS / AutoTheta / AutoARIMA (statsforecast, the `train` extra);
    the serving image stays without it (Dockerfile ARG EXTRAS, empty by default: under 1 GB)."""
    trainer, api = compose["services"]["trainer"], compose["services"]["api"]
    assert trainer["build"]["args"]["EXTRAS"] == "train"
    assert "args" not in api["build"]
    assert trainer["image"] != api["image"]
    assert "ARG EXTRAS=\n" in (ROOT / "Dockerfile").read_text()
