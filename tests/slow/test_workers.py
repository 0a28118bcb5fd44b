"""Several worker processes: metrics count every worker's requests (Prometheus multiprocess
mode), each worker batches on its own and has its own probe process."""

from __future__ import annotations

import re
import time
from pathlib import Path

import httpx
import pytest

from tests.servers import free_port, running, stop, wait_for
from tests.slow.conftest import ServiceFactory
from tests.slow.traffic import V2, Call, drive, v2_binary

pytestmark = pytest.mark.slow

INFER_COUNT = re.compile(
    r'^nnserve_requests_total\{endpoint="/v2/models/\{name\}/infer",model="mnist-mlp",'
    r'status="200"\} (\S+)$',
    re.MULTILINE,
)


def served_infers(url: str) -> float:
    """nnserve_requests_total for 200 answers of mnist-mlp's V2 infer, as /metrics says."""
    text = httpx.get(f"{url}/metrics", timeout=10).text
    return sum(float(value) for value in INFER_COUNT.findall(text))


def test_metrics_count_the_requests_of_every_worker(service: ServiceFactory) -> None:
    svc = service(NNSERVE_WORKERS="2")
    body, headers = v2_binary(1)
    tally = drive(svc.url, 4.0, 8, [Call("v2-binary", V2, body, headers)])
    assert (tally.problems, tally.connection_errors) == ([], 0)
    sent = tally.count(lambda status: status == 200)
    # Whichever worker answers the scrape, it reports the sum over both workers.
    assert [served_infers(svc.url) for _ in range(4)] == [sent] * 4


def probe_processes(root: int) -> list[int]:
    """The probe processes (asgi/probes.py) below `root`, from /proc."""
    parents: dict[int, int] = {}
    commands: dict[int, bytes] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                commands[int(entry.name)] = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if stat.rsplit(")", 1)[1].split()[0] != "Z":
                parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])

    def below(pid: int) -> bool:
        while pid in parents and pid != root:
            pid = parents[pid]
        return pid == root

    return [pid for pid in parents if b"service.asgi.probes" in commands[pid] and below(pid)]


def test_each_worker_has_a_probe_process_and_they_end_with_the_server(
    service: ServiceFactory,
) -> None:
    """Two workers: two probe processes on one port (SO_REUSEPORT), whichever answers a scrape
    counts both workers' requests; SIGTERM to the server leaves none of them behind."""
    port = free_port()
    svc = service(NNSERVE_WORKERS="2", NNSERVE_PROBE_PORT=str(port))
    wait_for(svc, "/v2/health/ready")
    body, headers = v2_binary(1)
    tally = drive(svc.url, 3.0, 8, [Call("v2-binary", V2, body, headers)])
    assert (tally.problems, tally.connection_errors) == ([], 0)
    sent = tally.count(lambda status: status == 200)
    probes = probe_processes(svc.process.pid)
    assert len(probes) == 2
    time.sleep(0.1)  # each worker's file is at most metrics.FLUSH_SECONDS behind
    assert [served_infers(f"http://127.0.0.1:{port}") for _ in range(6)] == [sent] * 6
    stop(svc)
    assert not [pid for pid in probes if running(pid)]
