"""`python -m service`: serve every champion of the tracking store on $PORT (default 8000)."""

from __future__ import annotations

import uvicorn

from service.app import create_app
from service.settings import get_settings


def main() -> None:
    settings = get_settings()
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=10,
    )


if __name__ == "__main__":
    main()
