"""Several worker processes: metrics count every worker's requests (Prometheus multiprocess
mode), and each worker batches on its own."""

from __future__ import annotations

import re

import httpx
import pytest

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
