"""The check both fast paths (V2 infer, /predict) pass: the same request answered with the
fast path on and through the routes gives the same status, body and headers."""

from __future__ import annotations

import httpx


def assert_same_answer(fast: httpx.Response, routed: httpx.Response) -> None:
    """Status, body and headers equal; each has its own request id, so those are left out."""
    assert (fast.status_code, fast.content) == (routed.status_code, routed.content)
    assert fast.headers.pop("x-request-id") and routed.headers.pop("x-request-id")
    assert dict(fast.headers) == dict(routed.headers)
