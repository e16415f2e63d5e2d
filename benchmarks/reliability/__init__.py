"""`make reliability` (`python -m benchmarks.reliability`): load, hot reload under load, soak
and faults against a real server, plus a security summary; one module for each, run in that
order by __main__.py. Writes benchmarks/results/reliability.{md,json}, soak_rss.png and
reliability.png (versions answered over time during the hot reload).

Server pinned to CPU 0, load generators (wrk, or the asyncio client in loadgen.py for the hot
reload, which must see every answer's model version) on CPU 1, loopback only, every load
bounded in time. Fuzzing, "tracking store unreachable at start-up" and "corrupt artifact
on reload" live in tests/test_fuzz.py and tests/test_service.py and are not repeated here.

Knobs (environment): RELIABILITY_LOAD_SECONDS (60), RELIABILITY_RELOAD_SECONDS (30),
RELIABILITY_SOAK_REQUESTS (100000), RELIABILITY_SOAK_MAX_SECONDS (600).
"""
