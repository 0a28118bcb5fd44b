"""`python -m service`: the `nnserve` command (service.cli.command), under its module name."""

from __future__ import annotations

from service.cli.command import main

if __name__ == "__main__":
    raise SystemExit(main(prog="python -m service"))
