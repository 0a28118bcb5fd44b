"""The `nnserve` command (also `python -m service`): serve, or list the model repository.

    nnserve [--host H] [--port N] [--workers N] [--models-dir DIR] [... every setting]
    nnserve models [--models-dir DIR] [--providers P]
    nnserve --version

Flag errors are one line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

import uvicorn

from service.app import version
from service.asgi.accept import GREEDY_ACCEPT_LOOP
from service.asgi.balance import accept_table
from service.asgi.wire import ONE_WRITE_HTTP
from service.cli.flags import FlagError, add_settings_flags, settings_from
from service.cli.inventory import report
from service.config import Settings, packaged_models_dir
from service.logs import configure_logging
from service.metrics import multiprocess_directory
from service.runtime.session import ProviderUnavailable

log = logging.getLogger(__name__)


class FlagParser(argparse.ArgumentParser):
    """argparse whose errors are one line (argparse's own prints the whole usage first)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser(prog: str) -> FlagParser:
    parser = FlagParser(
        prog=prog,
        description="Serve the ONNX model repository over HTTP (POST /predict, Open Inference "
        "Protocol V2, v1 JSON, gradient steps, a web page). Every flag is also an environment "
        "variable; a flag wins over its variable, which wins over the default.",
    )
    parser.add_argument("--version", action="version", version=f"nnserve {version()}")
    add_settings_flags(parser)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    models = commands.add_parser(
        "models",
        help="list the model repository, verified as the server loads it; exit 1 if any is broken",
        description="List every model version with its task, readiness after verification "
        "(sha256 of every file, onnxruntime opens each graph), its headline metric and why a "
        "broken one is broken. Exit status 1 when any version is broken or none is found.",
    )
    add_settings_flags(models, only=("models_dir", "providers"))
    return parser


def serve(settings: Settings) -> int:
    """Run the app under uvicorn; its workers rebuild Settings from the exported environment."""
    configure_logging(settings.log_level)
    served = settings.models_dir.resolve()
    # In a source checkout the packaged models are ./models: name them so only when they are not.
    packaged = served == packaged_models_dir() and served != Path("models").resolve()
    origin = " (packaged with nnserve)" if packaged else ""
    log.info("serving the model repository %s%s", served, origin)
    # accept_table: the workers' connection counts, so they share a burst of connections evenly
    with multiprocess_directory(settings.workers), accept_table(settings.workers):
        uvicorn.run(
            "service.app:create_app",
            factory=True,
            host=settings.host,
            port=settings.port,
            workers=settings.workers,
            log_level=settings.log_level,
            timeout_graceful_shutdown=30,
            loop=GREEDY_ACCEPT_LOOP,  # uvloop accepting every queued connection a loop turn
            http=ONE_WRITE_HTTP,  # httptools, each answer's headers and body in one write
        )
    return 0


def main(argv: Sequence[str] | None = None, prog: str = "nnserve") -> int:
    """Parse, build Settings (flags > NNSERVE_* > defaults), then serve or list models."""
    parser = build_parser(prog)
    args = parser.parse_args(argv)
    try:
        settings = settings_from(args)
    except FlagError as exc:
        parser.error(str(exc))
    if args.command == "models":
        try:
            text, status = report(settings)
        except ProviderUnavailable as exc:  # --providers cuda where CUDA cannot run
            parser.error(str(exc))
        print(text)
        return status
    return serve(settings)
