"""benchmarks/results/reliability.md and its two plots from the results of one run."""

from __future__ import annotations

import json

from benchmarks.reliability.settings import HISTORY, HORIZON, RESULTS, SOAK_MAX_SECONDS, SOAK_REQUESTS


def plots(results: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    soak_result = results["soak"]
    _, count, rss = zip(*soak_result["samples"], strict=True)
    figure, axis = plt.subplots(figsize=(8, 4))
    axis.plot(count, rss, lw=1.2, marker=".", ms=3, label="server VmRSS, sampled every second")
    axis.axvline(0.1 * count[-1], color="grey", ls="--", lw=1, label="end of warm-up (10 % of requests)")
    axis.axhline(soak_result["rss_after_warmup_mb"] * 1.05, color="red", ls=":", lw=1, label="+5 % over warm")
    axis.set(
        xlabel="requests answered",
        ylabel="MB",
        title=f"Soak: {soak_result['requests']:,} requests, c={soak_result['connections']}, "
        f"growth after warm-up {soak_result['rss_growth_pct']:+.2f} %",
    )
    axis.legend(loc="lower right")
    figure.tight_layout()
    figure.savefig(RESULTS / "soak_rss.png", dpi=110)
    plt.close(figure)

    reload = results["hot_reload"]
    figure, axis = plt.subplots(figsize=(8, 3))
    for version, colour in ((reload["old_version"], "tab:blue"), (reload["new_version"], "tab:orange")):
        times = [at for at, v in reload["timeline"] if v == version]
        axis.plot(times, [int(version)] * len(times), "|", color=colour, ms=12, label=f"v{version}")
    axis.axvline(reload["reload_sent_s"], color="grey", ls="--", lw=1, label="POST /models/reload")
    axis.axvline(reload["reload_answered_s"], color="black", ls=":", lw=1, label="reload answered")
    axis.set(
        xlabel="seconds (answer received)",
        ylabel="model version",
        title="Hot reload under load: version of each answer",
    )
    axis.set_yticks([int(reload["old_version"]), int(reload["new_version"])])
    axis.legend(loc="center right", fontsize=8)
    figure.tight_layout()
    figure.savefig(RESULTS / "reliability.png", dpi=110)
    plt.close(figure)


def yes(flag: bool) -> str:
    return "yes" if flag else "**no**"


def report(r: dict) -> str:
    parts = (header, load_section, hot_reload_section, soak_section, faults_section, security_section)
    return "\n".join(line for part in parts for line in part(r))


def section(title: str, *lines: str) -> list[str]:
    return [f"## {title}", "", *lines, ""]


def header(r: dict) -> list[str]:
    return [
        "# Reliability (`make reliability`)",
        "",
        f"Machine: {r['machine']['cpus']} CPUs shared with other jobs (load average "
        f"{r['machine']['loadavg_start']} at the start, {r['machine']['loadavg_end']} at the end), "
        f"Python {r['machine']['python']}, torch {r['machine']['torch']}. Server pinned to CPU 0 "
        "(1 torch thread, one uvicorn worker), load generator on CPU 1, loopback only. "
        "**Latency and throughput are noisy**: the other jobs on these 2 cores (model training) "
        "take CPU time from both sides; the pass/fail figures (failed requests, versions, RSS) do not depend on it.",
        f"Model: tiny LSTM (hidden 16, 2 layers, 1 member, context {HISTORY}); request: {HISTORY} values, "
        f"horizon {HORIZON}. Run took {r['seconds'] / 60:.1f} min.",
        "",
    ]


def load_section(r: dict) -> list[str]:
    load = r["load"]
    return section(
        "a. Load",
        "| load | requests | req/s | p50 | p90 | p99 | non-2xx | socket errors | goal | met |",
        "|---|---|---|---|---|---|---|---|---|---|",
        f"| wrk c={load['connections']}, {load['seconds']:.0f} s | {load['requests']:,} | {load['rps']:.0f} | "
        f"{load['p50_ms']:.1f} ms | {load['p90_ms']:.1f} ms | {load['p99_ms']:.1f} ms | {load['non_2xx']} | "
        f"{load['socket_errors']} | 0 failed | {yes(load['failed'] == 0)} |",
    )


def hot_reload_section(r: dict) -> list[str]:
    hot = r["hot_reload"]
    old, new = hot["old_version"], hot["new_version"]
    return section(
        "b. Hot reload under load",
        f"asyncio/aiohttp client in its own process, c={hot['connections']} for {hot['seconds']} s, recording the "
        "`model.version` of every answer. At "
        f"{hot['registered_s']:.1f} s a new version v{new} was registered from the champion's source "
        f"(`MlflowClient.create_model_version`), `champion` moved to it, and `POST /models/reload` sent at "
        f"{hot['reload_sent_s']:.1f} s; it answered after {hot['reload_ms']:.0f} ms with "
        f"`{json.dumps(hot['reload_report']['models'])}`. Timeline: `reliability.png`.",
        "",
        "| figure | value | goal | met |",
        "|---|---|---|---|",
        f"| requests / failed | {hot['requests']:,} / {hot['failed']} | 0 failed | {yes(hot['failed'] == 0)} |",
        "| answers by version | "
        + ", ".join(f"v{k}: {v:,}" for k, v in sorted(hot["answers_by_version"].items()))
        + f" | only v{old} or v{new} | {yes(hot['only_old_or_new'])} |",
        f"| sent after the reload answered, not v{new} | {hot['sent_after_reload_not_new']} | 0 | "
        f"{yes(hot['sent_after_reload_not_new'] == 0)} |",
        f"| v{old} answers to requests sent after the first v{new} answer "
        f"(flip-flop) | {hot['old_after_first_new']} | 0 | {yes(hot['old_after_first_new'] == 0)} |",
        f"| first v{new} answer | at {hot['first_new_answer_s']} s | | |",
        f"| v{old} answers received while the reload ran | "
        f"{hot['old_answers_in_flight_during_reload']} | (expected: the swap is atomic at the end) | |",
    )


def soak_section(r: dict) -> list[str]:
    soak = r["soak"]
    return section(
        "c. Soak",
        f"wrk c={soak['connections']} against a fresh server, {soak['requests']:,} requests in {soak['seconds']:.0f} s "
        f"({soak['rps']:.0f} req/s; target {SOAK_REQUESTS:,}, bounded at {SOAK_MAX_SECONDS} s), VmRSS sampled every "
        "second, against the answers counted by the service's `/metrics` (`soak_rss.png`). Warm-up = the first 10 % of "
        "the requests.",
        "",
        "| figure | value | goal | met |",
        "|---|---|---|---|",
        f"| requests / failed | {soak['requests']:,} / {soak['failed']} (non-2xx {soak['non_2xx']}, "
        f"socket {soak['socket_errors']}) | {SOAK_REQUESTS:,} / 0 | "
        f"{yes(soak['failed'] == 0 and soak['requests'] >= SOAK_REQUESTS)} |",
        f"| p50 / p99 | {soak['p50_ms']:.1f} / {soak['p99_ms']:.1f} ms | | |",
        f"| RSS at start / after warm-up / end / max | {soak['rss_start_mb']} / {soak['rss_after_warmup_mb']} / "
        f"{soak['rss_end_mb']} / {soak['rss_max_mb']} MB | | |",
        f"| RSS growth after warm-up | {soak['rss_growth_pct']:+.2f} % | < 5 % | {yes(soak['rss_growth_pct'] < 5)} |",
    )


def faults_section(r: dict) -> list[str]:
    killed = r["faults"]["killed_training"]
    rows = [
        f"| `python -m training` SIGKILLed mid-fit (after {killed['epochs_logged_before_kill']} epochs logged) | "
        f"{killed['returncode']} | n/a | {killed['registry_before']} -> {killed['registry_after']} | "
        f"{yes(killed['untouched'])} (service reload after it: `{killed['service_reload_after_kill']}`) |",
    ]
    for fault in r["faults"]["unwritable_artifacts"]:
        message = "no: traceback" if fault["traceback"] else "yes"
        rows.append(
            f"| artifact store unwritable ({fault['variant']}) | {fault['returncode']} | {message}: "
            f"`{fault['last_line'][:160]}` | {fault['registry_before']} -> {fault['registry_after']} | "
            f"{yes(fault['untouched'])} |"
        )
    return section(
        "d. Faults",
        "Already covered elsewhere (not repeated): tracking store unreachable at start-up then back "
        "(`tests/test_service.py::test_not_ready_until_the_store_has_a_champion`), corrupt artifact on reload keeps "
        "the old model (`test_failed_reload_keeps_the_old_model`), fuzzing (`tests/test_fuzz.py`). Fast versions of the "
        "faults below are in `tests/test_faults.py`.",
        "",
        "| fault | exit | clear message | registry before -> after | untouched |",
        "|---|---|---|---|---|",
        *rows,
    )


def security_section(r: dict) -> list[str]:
    code = r["security"]["code"]
    limits = r["security"]["limits"]["checks"]
    return section(
        "e. Security",
        "| check | result | met |",
        "|---|---|---|",
        *pip_audit_rows(r),
        f"| API key compared in constant time (`secrets.compare_digest` in service/deps.py) | "
        f"{code['api_key_compare_digest']} | {yes(code['api_key_compare_digest'])} |",
        "| every `torch.load` with `weights_only=True` | "
        + ", ".join(f"{load['where']}: {load['weights_only']}" for load in code["torch_loads"])
        + f" | {yes(code['all_weights_only'])} |",
        f"| a weights.pt that runs a command when unpickled is refused | {code['malicious_pickle_blocked']} | "
        f"{yes(code['malicious_pickle_blocked'])} |",
        *(
            f"| {check} | {status} | {yes(status == int(check.rsplit('-> ', 1)[1]))} |"
            for check, status in limits.items()
        ),
    )


def pip_audit_rows(r: dict) -> list[str]:
    audit = r["security"]["pip_audit"]
    if not audit.get("ran"):
        return [f"| pip-audit | did not run: {audit.get('error')} | **no** |"]
    vulnerable = len(audit["findings"])
    met = (
        "**not audited**: the vulnerability service is unreachable from this machine "
        f"(`{audit['skip_reason_example']}`), so pip-audit's 'No known vulnerabilities found' means nothing "
        "here; see docs/security.md |"
        if audit["skipped"] and not audit["audited"]
        else f"{yes(vulnerable == 0)} |"
    )
    rows = [
        f"| pip-audit over the venv ({audit['dependencies']} packages) | audited {audit['audited']}, "
        f"skipped {audit['skipped']}, findings {vulnerable} | " + met
    ]
    rows += [
        f"| {finding['package']} {finding['version']}: {finding['id']} | fix {finding['fix']} | |"
        for finding in audit["findings"]
    ]
    return rows
