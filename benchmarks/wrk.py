"""Drive one contender with Debian's wrk: a warm-up, then a fixed-duration measured run."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

from benchmarks.payloads import Payload
from benchmarks.servers import connection_spread, cpu_seconds, settle

LUA = Path(__file__).resolve().parent / "lua" / "post.lua"


@dataclass(frozen=True)
class Measurement:
    """What one wrk run saw, with the 1-minute load average right after it."""

    requests: int
    seconds: float
    errors: int
    p50_ms: float
    p99_ms: float
    load1: float
    cpu_us: float = 0.0
    """Server CPU microseconds per request (all its processes): steadier than req/s on a
    shared machine, since it does not count the time the server waited for a core."""
    spread: str = ""
    """Connections per worker half-way through ("4/4"; "8/0": one worker idle), where read."""

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def wrk_binary() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise SystemExit("wrk not found: run `bash scripts/dev/system-deps.sh` (apt-get wrk)")
    return found


def body_file(payload: Payload, directory: Path, name: str) -> Path:
    path = directory / f"{name}.body"
    path.write_bytes(payload.body)
    return path


def command(url: str, body: Path, payload: Payload, connections: int, seconds: float) -> list[str]:
    extra = list(payload.header) if payload.header else []
    return [
        wrk_binary(),
        "-t1",  # one load thread: the server gets the other core
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "-s",
        str(LUA),
        url,
        "--",
        str(body),
        payload.content_type,
        *extra,
    ]


def parse(output: str) -> dict[str, object]:
    for line in output.splitlines():
        if line.startswith("WRK_JSON "):
            parsed: dict[str, object] = json.loads(line.removeprefix("WRK_JSON "))
            return parsed
    raise RuntimeError(f"wrk printed no summary:\n{output[-2000:]}")


def run(url: str, body: Path, payload: Payload, connections: int, seconds: float) -> Measurement:
    """One wrk run; errors count connection, read, write, timeout and non-2xx/3xx answers."""
    argv = command(url, body, payload, connections, seconds)
    done = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=seconds + 60)
    summary = parse(done.stdout)
    errors: dict[str, int] = summary["errors"]  # type: ignore[assignment]
    latency: dict[str, float] = summary["latency_us"]  # type: ignore[assignment]
    return Measurement(
        requests=int(summary["requests"]),  # type: ignore[call-overload]
        seconds=float(summary["duration_us"]) / 1e6,  # type: ignore[arg-type]
        errors=sum(errors.values()),
        p50_ms=latency["p50"] / 1000,
        p99_ms=latency["p99"] / 1000,
        load1=os.getloadavg()[0],
    )


def measure(
    url: str,
    body: Path,
    payload: Payload,
    connections: int,
    warmup: float,
    seconds: float,
    pid: int,
) -> Measurement:
    """Warm up (lazy initialisation, connection set-up), wait for the server to go idle (wrk
    leaves the warm-up's last requests running, which would hold the in-flight places the
    measured run's connections need), then measure; `pid` is the server's."""
    if warmup > 0:
        run(url, body, payload, connections, warmup)
        settle(pid)
    before = cpu_seconds(pid)
    spread: list[str] = []
    port = int(url.split("://", 1)[1].split("/", 1)[0].rsplit(":", 1)[1])
    look = threading.Timer(seconds / 2, lambda: spread.append(connection_spread(pid, port)))
    look.start()
    m = run(url, body, payload, connections, seconds)
    used = (cpu_seconds(pid) - before) * 1e6 / max(m.requests, 1)
    look.join()
    return dataclasses.replace(m, cpu_us=used, spread="".join(spread))
