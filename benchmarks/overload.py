"""The overload row: wrk holds 1,000 connections of V2 binary infer on one nnserve worker
while a few probe threads time, one request at a time, what a client sees: admitted infer
calls (200), shed ones (503, with Retry-After), and the liveness and metrics endpoints.
The infer probes wait the Retry-After they are told, as a client should; wrk retries at
once, so its own latencies include the seconds nnserve leaves such a connection unread
(NNSERVE_REFUSED_HOLD_S).
Probe latencies are taken by a client that shares the two cores with wrk and the server, so
they are upper bounds.

    python -m benchmarks.overload [--connections 1000] [--seconds 10]
    python -m benchmarks.overload --sweep 16,32,64,128,256   # max_infer_in_flight, one row each

"live new" opens a new connection for every GET, as a Kubernetes probe does; "live" keeps one.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from benchmarks import contenders, payloads, plan, servers, wrk
from benchmarks.payloads import Payload
from benchmarks.servers import Server, Threads

ROOT = Path(__file__).resolve().parents[1]
SAMPLERS = 4
"""Infer probe threads: each sends one request, waits for its answer, sends the next."""


@dataclass
class Seen:
    """Latencies (ms) per probe and status, and probe failures (no answer at all)."""

    ms: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    failures: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    shed_without_retry_after: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, ms: float) -> None:
        with self.lock:
            self.ms[kind].append(ms)


def _fresh_probe(url: str, kind: str, seen: Seen, until: float) -> None:
    """A new connection per GET, 200 ms apart, as the kubelet probes. http.client, not
    httpx.get: a fresh httpx client builds an SSL context each time, which the probe's own
    starved core would time as the server's."""
    parts = urllib.parse.urlsplit(url)
    while time.monotonic() < until:
        start = time.perf_counter()
        connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10.0)
        try:
            connection.request("GET", parts.path)
            status = connection.getresponse().status
        except (OSError, http.client.HTTPException):
            with seen.lock:
                seen.failures[kind] += 1
            continue
        finally:
            connection.close()
        ms = (time.perf_counter() - start) * 1000
        seen.add(kind if status == 200 else f"{kind} {status}", ms)
        time.sleep(0.2)


def _probe(url: str, kind: str, seen: Seen, until: float, payload: Payload | None) -> None:
    """Back-to-back requests until `until`; health and metrics pause 50 ms between calls."""
    if kind.endswith(" new"):
        _fresh_probe(url, kind, seen, until)
        return
    headers = {"content-type": payload.content_type} if payload else {}
    if payload and payload.header:
        headers[payload.header[0]] = payload.header[1]
    with httpx.Client(timeout=10.0) as client:
        while time.monotonic() < until:
            start = time.perf_counter()
            try:
                if payload is None:
                    answer = client.get(url)
                else:
                    answer = client.post(url, content=payload.body, headers=headers)
            except httpx.HTTPError:
                with seen.lock:
                    seen.failures[kind] += 1
                continue
            ms = (time.perf_counter() - start) * 1000
            status = answer.status_code
            if payload is None:
                seen.add(kind if status == 200 else f"{kind} {status}", ms)
                time.sleep(0.05)
                continue
            seen.add({200: "admitted", 503: "shed"}.get(status, f"infer {status}"), ms)
            if status == 503 and "retry-after" not in answer.headers:
                seen.shed_without_retry_after += 1
            elif status == 503:  # a client that does as it is told; wrk's closed loop does not
                time.sleep(float(answer.headers["retry-after"]))


def _p(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


SERVER_SIDE = {"admitted": "/v2/models/{name}/infer", "refused": "unmatched"}
"""The server's own request-duration histogram, per endpoint label: admitted infer calls are
routed; refusals at the edge (asgi/limits.InferAdmission) come before routing: "unmatched"."""


def _bucket_quantile(buckets: list[tuple[float, float]], q: float) -> float:
    """The upper bound (ms) of the first bucket holding the q-th fraction of the count."""
    total = buckets[-1][1] if buckets else 0.0
    for bound, count in buckets:
        if total and count >= q * total:
            return bound * 1000
    return float("nan")


def server_side(url: str) -> dict[str, dict[str, float]]:
    """From /metrics: time from a request's headers to the end of its answer, as the server
    measured it (no wait for the loop to read the socket), per kind: count, p50, p99 (bucket
    bounds: an upper bound on the quantile)."""
    text = httpx.get(url + "/metrics", timeout=30.0).text
    out = {}
    for kind, endpoint in SERVER_SIDE.items():
        prefix = f'nnserve_request_duration_seconds_bucket{{endpoint="{endpoint}",'
        buckets = []
        for line in text.splitlines():
            if line.startswith(prefix):
                bound = line.split('le="', 1)[1].split('"', 1)[0]
                buckets.append((float(bound), float(line.rsplit(" ", 1)[1])))
        buckets.sort()
        n = buckets[-1][1] if buckets else 0.0
        out[kind] = {"n": n, "p50_ms": _bucket_quantile(buckets, 0.5),
                     "p99_ms": _bucket_quantile(buckets, 0.99)}  # fmt: skip
    return out


def summary(seen: Seen, load: dict[str, Any], cpu_us: float) -> dict[str, Any]:
    """One row: what wrk saw overall and what the probes saw, per kind."""
    errors = load["errors"]
    return {
        "connections": load["connections"], "seconds": load["seconds"],
        "wrk_rps": load["requests"] / load["seconds"],
        "wrk_p99_ms": load["latency_us"]["p99"] / 1e3,
        "wrk_non_2xx": errors["status"],
        "socket_errors": errors["connect"] + errors["read"] + errors["write"] + errors["timeout"],
        "cpu_us": cpu_us,
        "probes": {kind: {"n": len(ms), "p50_ms": _p(ms, 50), "p99_ms": _p(ms, 99),
                          "max_ms": max(ms)} for kind, ms in sorted(seen.ms.items())},
        "probe_failures": dict(seen.failures),
        "shed_without_retry_after": seen.shed_without_retry_after,
    }  # fmt: skip


def measure(server: Server, connections: int, seconds: float) -> dict[str, Any]:
    """wrk at `connections` for `seconds`, the probes alongside; server CPU per wrk request."""
    payload = payloads.v2_binary(payloads.normalized(payloads.digit_28x28()))
    seen = Seen()
    with tempfile.TemporaryDirectory() as tmp:
        body = wrk.body_file(payload, Path(tmp), "overload")
        argv = wrk.command(server.url + plan.V2_INFER, body, payload, connections, seconds)
        before = servers.cpu_seconds(server.process.pid)
        load = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
        time.sleep(1.0)  # let wrk open its connections and fill the queue first
        until = time.monotonic() + seconds - 2.0
        probes = [
            (server.url + "/v2/health/live", "live", None),
            (server.url + "/v2/health/live", "live new", None),
            (server.url + "/metrics", "metrics", None),
            *[(server.url + plan.V2_INFER, "infer", payload)] * SAMPLERS,
        ]
        if server.probe:  # NNSERVE_PROBE_PORT: the same probes on their own port and process
            probes += [
                (server.probe + "/v2/health/live", "probe port live new", None),
                (server.probe + "/metrics", "probe port metrics", None),
            ]
        threads = [
            threading.Thread(target=_probe, args=(url, kind, seen, until, body_payload))
            for url, kind, body_payload in probes
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        out, _ = load.communicate(timeout=seconds + 60)
        used = servers.cpu_seconds(server.process.pid) - before
    parsed = wrk.parse(out)
    parsed["connections"], parsed["seconds"] = connections, float(parsed["duration_us"]) / 1e6
    row = summary(seen, parsed, used * 1e6 / max(int(parsed["requests"]), 1))
    row["server_side"] = server_side(server.url)
    return row


TARGETS = [
    # (label, probe kind or None for a top-level figure, figure, goal, higher is better)
    ("overload: admitted infer p99 ms", "admitted", "p99_ms", 250.0, False),
    ("overload: shed infer (503) p99 ms", "shed", "p99_ms", 10.0, False),
    ("overload: /v2/health/live slowest ms", "live", "max_ms", 100.0, False),
    ("overload: /v2/health/live, new connections, slowest ms", "live new", "max_ms", 100.0, False),
    ("overload: /metrics slowest ms", "metrics", "max_ms", 100.0, False),
    (
        "overload: probe port /v2/health/live, new connections, slowest ms",
        "probe port live new",
        "max_ms",
        100.0,
        False,
    ),
    ("overload: probe port /metrics slowest ms", "probe port metrics", "max_ms", 100.0, False),
    ("overload: admitted infer, server-side p99 ms", "server:admitted", "p99_ms", 250.0, False),
    ("overload: refused infer (503), server-side p99 ms", "server:refused", "p99_ms", 10.0, False),
    ("overload: socket errors (wrk)", None, "socket_errors", 0.0, False),
    ("overload: probes without an answer", None, "probe_failures", 0.0, False),
    ("overload: 503 without Retry-After", None, "shed_without_retry_after", 0.0, False),
]
"""Goal 4 of the performance issue; a probe kind never seen counts as not met."""


def figures(row: dict[str, Any]) -> list[tuple[str, float, float, bool]]:
    """(label, measured, goal, higher is better) per target, from one overload row."""
    out = []
    for label, kind, figure, goal, higher in TARGETS:
        if kind is None:
            value = row[figure]
            measured = float(sum(value.values()) if isinstance(value, dict) else value)
        elif kind.startswith("server:"):
            side = row.get("server_side", {}).get(kind.removeprefix("server:"), {})
            measured = float(side.get(figure, float("nan")))
        else:
            measured = float(row["probes"].get(kind, {}).get(figure, float("nan")))
        out.append((label, measured, goal, higher))
    return out


def row_for(models_dir: Path, connections: int, seconds: float, **settings: str) -> dict[str, Any]:
    """One overload row against a fresh one-worker nnserve with these NNSERVE_ settings."""
    server = contenders.nnserve("nnserve", models_dir, Threads(), 1, **settings)
    with servers.running([server]):
        row = measure(server, connections, seconds)
    row["load1"] = os.getloadavg()[0]
    row["settings"] = settings
    return row


def sweep_table(rows: list[dict[str, Any]], command: str) -> str:
    """The sweep as markdown: one line per max_infer_in_flight value."""
    lines = [
        "# Overload sweep: max_infer_in_flight (one worker, wrk V2 binary, one image)", "",
        f"`{command}`", "",
        "| max_infer_in_flight | wrk req/s | admitted p50 / p99 ms | refused p50 / p99 ms "
        "| live p99 ms | live new max ms | metrics max ms | server-side admitted p50 / p99 ms "
        "| server-side refused p99 ms | refused % | socket errors | CPU us/req | load1 |",
        "|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]  # fmt: skip
    for row in rows:
        side = row["server_side"]
        answered = side["admitted"]["n"] + side["refused"]["n"]
        refused = 100 * side["refused"]["n"] / answered if answered else float("nan")

        def cell(kind: str, figure: str, probe: dict[str, Any] = row["probes"]) -> str:
            return f"{probe[kind][figure]:.0f}" if kind in probe else "-"

        lines.append(
            f"| {row['settings']['max_infer_in_flight']} | {row['wrk_rps']:.0f} "
            f"| {cell('admitted', 'p50_ms')} / {cell('admitted', 'p99_ms')} "
            f"| {cell('shed', 'p50_ms')} / {cell('shed', 'p99_ms')} | {cell('live', 'p99_ms')} "
            f"| {cell('live new', 'max_ms')} | {cell('metrics', 'max_ms')} "
            f"| {side['admitted']['p50_ms']:.0f} / {side['admitted']['p99_ms']:.0f} "
            f"| {side['refused']['p99_ms']:.1f} | {refused:.0f} "
            f"| {row['socket_errors']} | {row['cpu_us']:.0f} | {row['load1']:.2f} |"
        )
    notes = [
        "", "Client-side figures come from the probes (one request at a time beside wrk, "
        "on the same cores); server-side ones from the server's own histogram, from a "
        "request's headers to the end of its answer (bucket bounds, so upper bounds), which "
        "leaves out the wait for the event loop to read the socket. With wrk's closed loop "
        "every answer, refusals included, is followed at once by the next request, so a "
        "client's mean wait is connections / answers per second (Little's law) whatever is "
        "refused.",
    ]  # fmt: skip
    return "\n".join(lines + notes) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--models-dir", type=Path, default=ROOT / "models")
    parser.add_argument("--sweep", help="comma-separated max_infer_in_flight values")
    args = parser.parse_args(argv)
    if not args.sweep:
        print(json.dumps(row_for(args.models_dir, args.connections, args.seconds), indent=1))
        return
    rows = [
        row_for(args.models_dir, args.connections, args.seconds, max_infer_in_flight=value)
        for value in args.sweep.split(",")
    ]
    command = "python -m benchmarks.overload " + " ".join(argv or sys.argv[1:])
    table = sweep_table(rows, command)
    (ROOT / "benchmarks" / "results" / "overload-sweep.md").write_text(table)
    print(table)


if __name__ == "__main__":
    main()
