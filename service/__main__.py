"""`python -m service`: serve every champion of the tracking store on $PORT (default 8000)."""

from __future__ import annotations

import uvicorn

from service.app import create_app
from service.server import DrainingServer
from service.settings import get_settings


def main() -> None:
    settings = get_settings()
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=10,
    )
    DrainingServer(config, settings.shutdown_drain_seconds, on_drain=app.state.store.begin_shutdown).run()


if __name__ == "__main__":
    main()
