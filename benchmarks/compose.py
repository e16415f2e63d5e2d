"""`make compose-test`: the compose stack as production would run it, measured from empty volumes.

Through the make targets (the fixed interface): `compose-clean`, `compose-up REPLICAS=3`;
then closed-loop load through the load balancer on :8000 (c=16, at least 60 s) while
  a. a new champion is promoted (a new registry version, the alias moved in the mlflow
     container as a user would): every replica must answer with it within the poll interval;
  b. the replicas are rolled (`make compose-roll`);
  c. PostgreSQL and the tracking server are restarted, then a second promotion;
then the checks that need no load (secrets in `docker inspect` and process arguments,
limits and restart policies, what is published, training log warnings), a backup, `down`
and `up` on the kept volumes, `compose-clean`, `compose-restore` from the backup (same
forecast to the last digit), and a final `compose-clean` that must leave nothing behind.
Writes benchmarks/results/compose.{md,json}.

Knobs (environment): COMPOSE_TEST_SMOKE (1: one tiny model, the default; 0: the full
training, minutes more), COMPOSE_TEST_LOAD_SECONDS (60), COMPOSE_TEST_CONNECTIONS (16).
Needs `docker` (real Docker or ../shared/container/setup.sh) and takes several minutes:
it is not part of `make test`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
RESULTS = PROJECT_DIR / "benchmarks" / "results"
LOGS = RESULTS / "compose-logs"  # not committed (.gitignore)
PROJECT = "recurrent-forecast"
BASE = "http://127.0.0.1:8000"
SMOKE = os.environ.get("COMPOSE_TEST_SMOKE", "1") == "1"
LOAD_SECONDS = float(os.environ.get("COMPOSE_TEST_LOAD_SECONDS", "60"))
CONNECTIONS = int(os.environ.get("COMPOSE_TEST_CONNECTIONS", "16"))
REPLICAS = 3
MODEL = "passengers"
REQUEST = {"model": MODEL, "horizon": 12, "level": [80, 95]}
# every replica must serve a new champion within this (FORECAST_POLL_SECONDS in compose)
POLL_SECONDS = 10.0

PROMOTE = """
import time
from mlflow import MlflowClient
client = MlflowClient("http://127.0.0.1:5000")
current = client.get_model_version_by_alias("{model}", "champion")
# the server accepts a logged model's source (models:/m-...) only with that model's id
new = client.create_model_version(
    "{model}", current.source, run_id=current.run_id, model_id=current.source.removeprefix("models:/")
)
client.set_registered_model_alias("{model}", "champion", new.version)
print(current.version, new.version, time.time())
"""


def log(message: str) -> None:
    print(f"[compose-test {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def make(*args: str, timeout: float = 3600) -> float:
    """Run a make target of the fixed interface; returns its wall time."""
    env = {**os.environ, "COMPOSE_SMOKE": "1" if SMOKE else ""}
    started = time.monotonic()
    log("make " + " ".join(args))
    subprocess.run(["make", *args], cwd=PROJECT_DIR, env=env, check=True, timeout=timeout)
    return round(time.monotonic() - started, 1)


def docker(*args: str, check: bool = True, timeout: float = 300) -> str:
    result = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise RuntimeError(f"docker {' '.join(args)}: {result.stderr.strip()[-2000:]}")
    return result.stdout


def containers(service: str | None = None, all_states: bool = False) -> list[str]:
    filters = ["--filter", f"label=com.docker.compose.project={PROJECT}"]
    if service:
        filters += ["--filter", f"label=com.docker.compose.service={service}"]
    return docker("ps", "-q", *(["-a"] if all_states else []), *filters).split()


def leftovers() -> dict[str, list[str]]:
    label = f"label=com.docker.compose.project={PROJECT}"
    return {
        "containers": docker("ps", "-a", "--format", "{{.Names}}", "--filter", label).split(),
        "volumes": [v for v in docker("volume", "ls", "--format", "{{.Name}}").split() if PROJECT in v],
        "networks": [n for n in docker("network", "ls", "--format", "{{.Name}}").split() if PROJECT in n],
    }


def api_key() -> str:
    return (PROJECT_DIR / "deploy" / "secrets" / "api_key").read_text().strip()


def http(method: str, path: str, body: dict | None = None, key: str | None = None) -> tuple[int, dict]:
    headers = {"content-type": "application/json"}
    if key:
        headers["X-API-Key"] = key
    request = urllib.request.Request(
        BASE + path, data=json.dumps(body).encode() if body else None, method=method, headers=headers
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def forecast() -> dict:
    status, body = http("POST", "/forecast", REQUEST, api_key())
    if status != 200:
        raise RuntimeError(f"POST /forecast: {status} {body}")
    return body


def promote() -> dict:
    (mlflow,) = containers("mlflow")
    old, new, moved_at = docker("exec", mlflow, "python", "-c", PROMOTE.format(model=MODEL)).split()
    return {"old": old, "new": new, "alias_moved_at": float(moved_at)}


# ---------------------------------------------------------------- load


class Load:
    """Closed-loop POST /forecast from CONNECTIONS keep-alive clients in a thread of its own;
    one record per request: [sent, received (time.time()), status, model version,
    replica (the load balancer's X-Served-By), error]."""

    def __init__(self) -> None:
        self.records: list[list] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)

    async def _run(self) -> None:
        import aiohttp

        payload = json.dumps(REQUEST).encode()
        headers = {"Content-Type": "application/json", "X-API-Key": api_key()}
        async with aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=CONNECTIONS), timeout=aiohttp.ClientTimeout(total=30)
        ) as session:

            async def client() -> None:
                while not self.stop.is_set():
                    sent = time.time()
                    try:
                        async with session.post(f"{BASE}/forecast", data=payload, headers=headers) as r:
                            body = await r.read()
                            version = json.loads(body)["model"]["version"] if r.status == 200 else None
                            record = [
                                sent,
                                time.time(),
                                r.status,
                                version,
                                r.headers.get("X-Served-By"),
                                None,
                            ]
                            if r.status != 200:
                                record[5] = body[:200].decode(errors="replace")
                    except Exception as error:  # every failure is a record, never a crash
                        record = [sent, time.time(), 0, None, None, f"{type(error).__name__}: {error}"]
                    self.records.append(record)

            await asyncio.gather(*(client() for _ in range(CONNECTIONS)))

    def __enter__(self) -> Load:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=60)


def wait_all_replicas_serve(load: Load, promoted: dict, timeout: float) -> dict:
    """Seconds from the alias move until every replica answering at the time has answered
    with the new version, and until the last answer with the old one."""
    moved = promoted["alias_moved_at"]
    deadline = time.time() + timeout
    while True:
        recent = [r for r in load.records if r[0] >= moved]
        replicas = {r[4] for r in recent if r[4]}
        first_new = {}
        for _sent, received, _status, version, replica, _error in recent:
            if version == promoted["new"] and replica not in first_new:
                first_new[replica] = received
        if replicas and set(first_new) == replicas and time.time() - max(first_new.values()) > 2:
            break
        if time.time() > deadline:
            break
        time.sleep(0.5)
    old_after = [r[1] for r in load.records if r[0] >= moved and r[3] == promoted["old"]]
    before = [r[3] for r in load.records if r[1] < moved and r[3]]
    return {
        **promoted,
        # what the replicas served while the alias named promoted["old"]: must be only that
        "versions_before": {v: before.count(v) for v in sorted(set(before))},
        "replicas": sorted(replicas),
        "every_replica_new_s": round(max(first_new.values()) - moved, 2) if first_new else None,
        "per_replica_new_s": {k: round(v - moved, 2) for k, v in sorted(first_new.items())},
        "replicas_without_new": sorted(replicas - set(first_new)),
        "last_old_answer_s": round(max(old_after) - moved, 2) if old_after else None,
        "old_answers_after": len(old_after),
    }


def phase_stats(records: list[list], start: float, end: float) -> dict:
    window = [r for r in records if start <= r[0] < end]
    latencies = sorted((r[1] - r[0]) * 1000 for r in window if r[2] == 200)
    failed = [r for r in window if r[2] != 200]
    return {
        "seconds": round(end - start, 1),
        "requests": len(window),
        "failed": len(failed),
        "failure_examples": sorted({str(r[5] or r[2])[:160] for r in failed})[:5],
        "p50_ms": round(statistics.median(latencies), 1) if latencies else None,
        "p99_ms": round(latencies[int(0.99 * (len(latencies) - 1))], 1) if latencies else None,
        "by_replica": {
            k: sum(1 for r in window if r[4] == k) for k in sorted({r[4] for r in window if r[4]})
        },
        "by_version": {
            str(k): sum(1 for r in window if r[3] == k) for k in sorted({r[3] for r in window if r[3]})
        },
    }


def under_load() -> dict:
    phases: list[tuple[str, float, float]] = []
    with Load() as load:
        started = time.time()
        time.sleep(5)
        log("a. promotion")
        t = time.time()
        promoted = wait_all_replicas_serve(load, promote(), timeout=3 * POLL_SECONDS)
        phases.append(("a. promotion", t, time.time()))
        log(f"   every replica on v{promoted['new']} after {promoted['every_replica_new_s']} s")

        log("b. rolling replacement of the replicas")
        t = time.time()
        roll_s = make("compose-roll")
        phases.append(("b. roll", t, time.time()))

        log("c. restart of postgres and mlflow, then a second promotion")
        t = time.time()
        for service in ("postgres", "mlflow"):
            for container in containers(service):
                docker("restart", "-t", "30", container)
        deadline = time.time() + 300
        (mlflow,) = containers("mlflow")
        while docker("inspect", "-f", "{{.State.Health.Status}}", mlflow).strip() != "healthy":
            if time.time() > deadline:
                raise RuntimeError("mlflow not healthy 300 s after its restart")
            time.sleep(1)
        restart_s = round(time.time() - t, 1)
        second = wait_all_replicas_serve(load, promote(), timeout=3 * POLL_SECONDS)
        phases.append(("c. restarts + promotion", t, time.time()))
        log(f"   every replica on v{second['new']} after {second['every_replica_new_s']} s")

        time.sleep(max(5.0, LOAD_SECONDS - (time.time() - started)))
        ended = time.time()
    phases.append(("steady (the rest)", phases[-1][2], ended))
    records = load.records
    return {
        "connections": CONNECTIONS,
        "total": phase_stats(records, started, ended + 60),
        "phases": {name: phase_stats(records, a, b) for name, a, b in phases},
        "promotion": promoted,
        "second_promotion": second,
        "roll_s": roll_s,
        "restart_s": restart_s,
    }


# ---------------------------------------------------------------- checks without load


def inspect_all() -> list[dict]:
    rows = []
    for container in containers(all_states=True):
        (info,) = json.loads(docker("inspect", container))
        host = info["HostConfig"]
        rows.append(
            {
                "name": info["Name"].lstrip("/"),
                "memory_mb": round(host.get("Memory", 0) / 2**20),
                "cpus": round(host.get("NanoCpus", 0) / 1e9, 2) or host.get("CpuQuota", 0) / 1e5,
                "restart": (host.get("RestartPolicy") or {}).get("Name", ""),
                "published": sorted(
                    f"{b['HostIp'] or '0.0.0.0'}:{b['HostPort']}->{port}"
                    for port, bindings in (host.get("PortBindings") or {}).items()
                    for b in bindings or []
                ),
                "inspect": json.dumps(info),
            }
        )
    return rows


def secrets_exposed(rows: list[dict]) -> dict:
    secrets = {
        name: (PROJECT_DIR / "deploy" / "secrets" / name).read_text().strip()
        for name in ("postgres_password", "api_key")
    }
    in_inspect = sorted({name for row in rows for name, value in secrets.items() if value in row["inspect"]})
    in_args = []
    for container in containers():
        args = docker(
            "exec", container, "sh", "-c", "cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\\0' ' '", check=False
        )
        in_args += [f"{container[:12]}:{name}" for name, value in secrets.items() if value in args]
    return {"in_docker_inspect": in_inspect, "in_process_arguments": in_args}


def reachable(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=3)
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False
    return True


def save_logs() -> dict[str, str]:
    """Every container's log by container name, also written to LOGS (kept for a failed check)."""
    LOGS.mkdir(parents=True, exist_ok=True)
    logs = {}
    for container in containers(all_states=True):
        name = docker("inspect", "-f", "{{.Name}}", container).strip().lstrip("/")
        result = subprocess.run(["docker", "logs", container], capture_output=True, text=True, timeout=60)
        logs[name] = result.stdout + result.stderr
        (LOGS / f"{name}.log").write_text(logs[name])
    return logs


def telling_lines(logs: dict[str, str]) -> dict[str, list[str]]:
    """The trainer's and the replicas' lines that say what was registered and chosen, and what
    each replica served."""
    wanted = ("champion rule", "failed", "serving ", "registered the base")
    return {
        name: [line[-300:] for line in text.splitlines() if any(w in line for w in wanted)][-40:]
        for name, text in logs.items()
        if "trainer" in name or "api" in name
    }


def static_checks(trainer_output: str) -> dict:
    rows = inspect_all()
    status_without_key, _ = http("POST", "/forecast", REQUEST)
    return {
        "containers": [{k: v for k, v in row.items() if k != "inspect"} for row in rows],
        "secrets": secrets_exposed(rows),
        "forecast_without_key": status_without_key,
        "mlflow_from_host_5000": reachable("http://127.0.0.1:5000/health"),
        "trainer_log": {
            "git_warnings": trainer_output.count("Failed to import Git"),
            "schema_warnings": trainer_output.count("Failed to infer schema"),
            # the trainer's image has statsforecast: every series' baselines scored, none missing
            "baselines": [
                line for line in trainer_output.splitlines() if "validation MASE of the baselines" in line
            ],
        },
    }


# ---------------------------------------------------------------- data


def data_round_trip(scratch: Path) -> dict:
    before = forecast()
    backup_dir = scratch / "backup"
    backup_s = make("compose-backup", f"BACKUP={backup_dir}")
    sizes = {p.name: p.stat().st_size for p in backup_dir.iterdir()}

    down_s = make("compose-down")
    after_down = leftovers()
    up_again_s = make("compose-up", f"REPLICAS={REPLICAS}")
    kept = forecast()

    clean_s = make("compose-clean")
    after_clean = leftovers()
    restore_s = make("compose-restore", f"BACKUP={backup_dir}", f"REPLICAS={REPLICAS}")
    restored = forecast()
    return {
        "backup_s": backup_s,
        "backup_bytes": sizes,
        "down_s": down_s,
        "after_down": after_down,
        "up_on_kept_volumes_s": up_again_s,
        "same_forecast_after_down_up": kept == before,
        "clean_s": clean_s,
        "after_clean": after_clean,
        "restore_s": restore_s,
        "same_forecast_after_restore": restored == before,
        "forecast": before,
    }


def report(r: dict) -> str:
    load = r["load"]
    lines = [
        "# Compose stack under load (`make compose-test`)",
        "",
        f"Run {r['date']} on this machine ({os.cpu_count()} cores shared with other jobs), podman-backed "
        f"`docker` (../shared/container/setup.sh), {'one tiny model (COMPOSE_SMOKE=1)' if SMOKE else 'full training'}, "
        f"{REPLICAS} api replicas behind HAProxy, FORECAST_POLL_SECONDS={POLL_SECONDS:g}. "
        f'Whole run {r["wall_s"]} s. What each step does: docs/deployment.md, "Measured".',
        "",
        f"`make compose-clean` then `make compose-up REPLICAS={REPLICAS}` from empty volumes: {r['up_s']} s.",
        "",
        f"## Load through :8000, c={load['connections']}, closed loop",
        "",
        "| phase | s | requests | failed | p50 ms | p99 ms | answers by version |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, s in [*load["phases"].items(), ("**whole run**", load["total"])]:
        lines.append(
            f"| {name} | {s['seconds']} | {s['requests']} | {s['failed']} | {s['p50_ms']} | {s['p99_ms']} "
            f"| {s['by_version']} |"
        )
    failures = sorted({e for s in load["phases"].values() for e in s["failure_examples"]})
    lines += ["", f"Failure examples: {failures or 'none'}.", ""]
    for label, p in (
        ("first promotion", load["promotion"]),
        ("second promotion (after the restarts)", load["second_promotion"]),
    ):
        lines.append(
            f"- {label}: v{p['old']} -> v{p['new']}; every replica ({', '.join(p['replicas'])}) answered with "
            f"v{p['new']} {p['every_replica_new_s']} s after the alias moved (per replica {p['per_replica_new_s']}; "
            f"goal: within the poll interval, {POLL_SECONDS:g} s); last v{p['old']} answer at "
            f"{p['last_old_answer_s']} s; replicas that never answered with it: {p['replicas_without_new'] or 'none'}; "
            f"answers before the move, by version: {p['versions_before']} (the alias named v{p['old']})"
        )
    lines += [
        f"- `make compose-roll` (3 replicas, one at a time): {load['roll_s']} s",
        f"- `docker restart` postgres then mlflow, until mlflow healthy: {load['restart_s']} s",
        "",
        "## What the logs say (every container's log: benchmarks/results/compose-logs/, not committed)",
        "",
        *(
            f"- {name}: " + ("; ".join(f"`{line.strip()[-160:]}`" for line in found[-8:]) or "nothing")
            for name, found in sorted(r["logs"].items())
        ),
        "",
        "## Secrets, exposure, limits",
        "",
        f"- secret values found in `docker inspect` of every container: {r['static']['secrets']['in_docker_inspect'] or 'none'}; "
        f"in any process's arguments (/proc/*/cmdline in every running container): "
        f"{r['static']['secrets']['in_process_arguments'] or 'none'}",
        f"- `POST /forecast` without the API key: {r['static']['forecast_without_key']}; MLflow reachable from "
        f"the host on :5000: {r['static']['mlflow_from_host_5000']}",
        f"- trainer log: 'Failed to import Git' x{r['static']['trainer_log']['git_warnings']}, "
        f"'Failed to infer schema' x{r['static']['trainer_log']['schema_warnings']}; the baselines: "
        + (
            "; ".join(f"`{line.strip()}`" for line in r["static"]["trainer_log"]["baselines"]) or "not scored"
        ),
        "",
        "| container | memory limit MB | CPUs | restart policy | published |",
        "|---|---|---|---|---|",
        *(
            f"| {c['name']} | {c['memory_mb']} | {c['cpus']} | {c['restart']} | {', '.join(c['published']) or '-'} |"
            for c in r["static"]["containers"]
        ),
        "",
        "## Backup, down / up, restore, teardown",
        "",
    ]
    d = r["data"]
    lines += [
        f"- `make compose-backup`: {d['backup_s']} s, {d['backup_bytes']}",
        f"- `make compose-down`: {d['down_s']} s; left: containers {d['after_down']['containers'] or 'none'}, "
        f"networks {d['after_down']['networks'] or 'none'}, volumes (kept) {d['after_down']['volumes']}",
        f"- `make compose-up` on the kept volumes: {d['up_on_kept_volumes_s']} s; same forecast: "
        f"{d['same_forecast_after_down_up']}",
        f"- `make compose-clean`: {d['clean_s']} s; left: {d['after_clean']}",
        f"- `make compose-restore` from the backup into empty volumes (then up): {d['restore_s']} s; same forecast "
        f"to the last digit: {d['same_forecast_after_restore']}",
        f"- final `make compose-clean`: left {r['final_leftovers']} "
        "(`docker ps -a`, `docker volume ls`, `docker network ls` filtered to the project)",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    argparse.ArgumentParser(
        prog="python -m benchmarks.compose", description=__doc__.split("\n\n")[0]
    ).parse_args(argv)
    started = time.monotonic()
    results: dict = {"date": time.strftime("%Y-%m-%d %H:%M"), "smoke": SMOKE}
    make("compose-clean")
    results["up_s"] = make("compose-up", f"REPLICAS={REPLICAS}")
    try:
        results["load"] = under_load()
        logs = save_logs()
        results["logs"] = telling_lines(logs)
        (trainer_output,) = [text for name, text in logs.items() if "trainer" in name]
        results["static"] = static_checks(trainer_output)
        with tempfile.TemporaryDirectory(prefix="compose-test-") as scratch:
            results["data"] = data_round_trip(Path(scratch))
    finally:
        make("compose-clean")
    results["final_leftovers"] = leftovers()
    results["wall_s"] = round(time.monotonic() - started, 1)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "compose.json").write_text(json.dumps(results, indent=1))
    (RESULTS / "compose.md").write_text(report(results))
    total = results["load"]["total"]
    log(f"done in {results['wall_s']} s: {total['requests']} requests, {total['failed']} failed")
    checks = [
        total["failed"] == 0,
        all(results["load"][p]["replicas_without_new"] == [] for p in ("promotion", "second_promotion")),
        set(results["load"]["promotion"]["versions_before"]) <= {results["load"]["promotion"]["old"]},
        bool(results["static"]["trainer_log"]["baselines"]),
        not any("missing" in line for line in results["static"]["trainer_log"]["baselines"]),
        not results["static"]["secrets"]["in_docker_inspect"],
        not results["static"]["secrets"]["in_process_arguments"],
        results["data"]["same_forecast_after_restore"],
        not any(results["final_leftovers"].values()),
    ]
    sys.exit(0 if all(checks) else 1)


if __name__ == "__main__":
    main()
