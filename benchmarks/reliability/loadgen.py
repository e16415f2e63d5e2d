"""The hot reload's load generator, run in a process of its own (`python -m
benchmarks.reliability.loadgen`, pinned to CPU 1): unlike wrk it records the model version of
every answer. Prints "started" once it runs; writes its records as JSON to --out."""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from pathlib import Path

from benchmarks.reliability.settings import BODY


async def closed_loop(url: str, connections: int, seconds: float) -> list[list]:
    """Closed-loop POSTs from `connections` keep-alive workers for `seconds`; one record per
    request: [sent, received (time.monotonic(), the same clock in every process), status,
    model version or None, error or None]."""
    import aiohttp

    records: list[list] = []
    payload = json.dumps(BODY).encode()
    headers = {"Content-Type": "application/json"}
    stop_at = time.monotonic() + seconds
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=connections), timeout=timeout
    ) as session:

        async def worker() -> None:
            while (sent := time.monotonic()) < stop_at:
                try:
                    async with session.post(url, data=payload, headers=headers) as response:
                        body = await response.read()
                        version = json.loads(body)["model"]["version"] if response.status == 200 else None
                        records.append([sent, time.monotonic(), response.status, version, None])
                except Exception as error:  # every failure is a record, never a crash
                    records.append([sent, time.monotonic(), 0, None, f"{type(error).__name__}: {error}"])

        await asyncio.gather(*(worker() for _ in range(connections)))
    return records


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.reliability.loadgen")
    parser.add_argument("--url", required=True)
    parser.add_argument("--connections", type=int, required=True)
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    print("started", flush=True)
    records = asyncio.run(closed_loop(args.url, args.connections, args.seconds))
    Path(args.out).write_text(json.dumps(records))


if __name__ == "__main__":
    main()
