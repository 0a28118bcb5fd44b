"""`python -m service`: run the app under uvicorn with host, port and workers from Settings."""

from __future__ import annotations

import uvicorn

from service.config import Settings
from service.metrics import multiprocess_directory


def main() -> None:
    settings = Settings()
    with multiprocess_directory(settings.workers):
        uvicorn.run(
            "service.app:create_app",
            factory=True,
            host=settings.host,
            port=settings.port,
            workers=settings.workers,
            log_level=settings.log_level,
            timeout_graceful_shutdown=30,
        )


if __name__ == "__main__":
    main()
