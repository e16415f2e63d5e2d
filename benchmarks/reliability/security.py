"""e. Security: pip-audit over the virtualenv, checks of the code (constant-time API key
comparison, `torch.load(weights_only=True)` everywhere, a malicious pickle refused), and the
API key, body size and batch size limits of a running server."""

from __future__ import annotations

import ast
import contextlib
import inspect
import json
import logging
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator
from pathlib import Path

from benchmarks.reliability.server import start_server
from benchmarks.reliability.settings import BODY, NAME, PROJECT
from benchmarks.serving import stop

log = logging.getLogger(__name__)


def pip_audit() -> dict:
    log.info("security: pip-audit")
    executable = Path(sys.executable).with_name("pip-audit")
    if not executable.exists():
        return {
            "ran": False,
            "error": f"{executable} not found: install the bench extra (pip install -e '.[bench]')",
        }
    command = [str(executable), "-f", "json", "--progress-spinner", "off"]
    audit = subprocess.run(command, capture_output=True, text=True, timeout=600)
    try:
        report = json.loads(audit.stdout)
    except json.JSONDecodeError:
        return {"ran": False, "error": (audit.stderr or audit.stdout)[-500:]}
    dependencies = report.get("dependencies", [])
    skipped = [d for d in dependencies if d.get("skip_reason")]
    findings = [
        {
            "package": d["name"],
            "version": d["version"],
            "id": v["id"],
            "aliases": v.get("aliases", []),
            "fix": v.get("fix_versions", []),
        }
        for d in dependencies
        for v in d.get("vulns", [])
    ]
    return {
        "ran": True,
        "returncode": audit.returncode,
        "dependencies": len(dependencies),
        "audited": len(dependencies) - len(skipped),
        "skipped": len(skipped),
        "skip_reason_example": skipped[0]["skip_reason"] if skipped else None,
        "findings": findings,
    }


def post_status(base: str, body: bytes | Iterable[bytes], headers: dict) -> int:
    request = urllib.request.Request(f"{base}/forecast", body, headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def limits(store: Path, uri: str) -> dict:
    log.info("security: API key, body and batch limits")
    key = "reliability-key"
    process, base = start_server(
        store, uri, FORECAST_API_KEY=key, FORECAST_MAX_BODY_BYTES="4096", FORECAST_MAX_BATCH="5"
    )
    json_type = {"Content-Type": "application/json"}
    keyed = {**json_type, "X-API-Key": key}
    small = json.dumps(BODY).encode()
    big = json.dumps({**BODY, "history": [1.0] * 2000}).encode()

    def chunked() -> Iterator[bytes]:
        yield big[:1000]
        yield big[1000:]

    def batch(n: int) -> bytes:
        series = [{"id": str(i), "history": BODY["history"]} for i in range(n)]
        return json.dumps({"model": NAME, "horizon": 1, "series": series}).encode()

    try:
        checks = {
            "no key -> 401": post_status(base, small, json_type),
            "wrong key -> 401": post_status(base, small, {**json_type, "X-API-Key": "nope"}),
            "right key -> 200": post_status(base, small, keyed),
            f"body of {len(big)} bytes > 4096 (Content-Length) -> 413": post_status(base, big, keyed),
            "same body chunked, no Content-Length -> 413": post_status(
                base, chunked(), {**keyed, "Transfer-Encoding": "chunked"}
            ),
            "batch of 6 > FORECAST_MAX_BATCH=5 -> 422": post_status(base, batch(6), keyed),
            "batch of 5 -> 200": post_status(base, batch(5), keyed),
        }
    finally:
        stop(process)
    expected = {name: int(name.rsplit("-> ", 1)[1]) for name in checks}
    return {"checks": checks, "all_as_expected": checks == expected}


def code_checks(uri: str) -> dict:
    from service import deps

    source = inspect.getsource(deps.require_api_key)
    loads = []
    for path in sorted(
        [*PROJECT.glob("models/*.py"), *PROJECT.glob("service/*.py"), *PROJECT.glob("training/*.py")]
    ):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and ast.unparse(node.func) == "torch.load":
                safe = any(
                    k.arg == "weights_only" and isinstance(k.value, ast.Constant) and k.value.value is True
                    for k in node.keywords
                )
                loads.append({"where": f"{path.relative_to(PROJECT)}:{node.lineno}", "weights_only": safe})
    return {
        "api_key_compare_digest": "secrets.compare_digest" in source and "==" not in source,
        "torch_loads": loads,
        "all_weights_only": all(load["weights_only"] for load in loads),
        "malicious_pickle_blocked": malicious_pickle_blocked(uri),
    }


def malicious_pickle_blocked(uri: str) -> bool:
    """The champion's artifact with a weights.pt whose unpickling would run a command:
    ForecasterArtifact.load must refuse it without running the command."""
    from models.artifact import ForecasterArtifact
    from service.registry import SqliteRegistry

    registry = SqliteRegistry(uri)
    scratch = Path(tempfile.mkdtemp(prefix="pickle-")) / "forecaster"
    shutil.copytree(registry.fetch(registry.resolve(NAME, "champion"), scratch), scratch)
    marker = scratch.parent / "executed"
    ForecasterArtifact.load(scratch)  # the untouched copy loads

    class Exploit:
        def __reduce__(self) -> tuple:
            return (os.system, (f"touch {marker}",))

    (scratch / "weights.pt").write_bytes(pickle.dumps(Exploit()))
    with contextlib.suppress(Exception):
        ForecasterArtifact.load(scratch)
    blocked = not marker.exists()
    shutil.rmtree(scratch.parent, ignore_errors=True)
    return blocked
