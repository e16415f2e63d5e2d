"""uvicorn with a drain phase for rolling restarts behind a load balancer.

On SIGTERM the replica first stops being ready (`/ready` answers 503) while it keeps
answering every request for `shutdown_drain_seconds`, so a load balancer that polls
`/ready` takes it out of rotation before the listener closes; then uvicorn's graceful
shutdown stops accepting connections and lets the requests in flight finish. Ctrl-C
(SIGINT) and a second SIGTERM skip the wait.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from types import FrameType

import uvicorn

log = logging.getLogger("service")


class DrainingServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, drain_seconds: float, on_drain: Callable[[], None]) -> None:
        super().__init__(config)
        self.drain_seconds = drain_seconds
        self.on_drain = on_drain
        self._drain_timer: threading.Timer | None = None

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self.on_drain()
        first_sigterm = sig == signal.SIGTERM and self._drain_timer is None and not self.should_exit
        if first_sigterm and self.drain_seconds > 0:
            log.info("SIGTERM: not ready any more; closing the listener in %.1f s", self.drain_seconds)
            # uvicorn's main loop checks `should_exit` every 0.1 s: setting it from a timer
            # thread is safe, and the event loop keeps serving meanwhile
            self._drain_timer = threading.Timer(self.drain_seconds, super().handle_exit, (sig, frame))
            self._drain_timer.daemon = True
            self._drain_timer.start()
            return
        if self._drain_timer is not None:
            self._drain_timer.cancel()
        super().handle_exit(sig, frame)
