"""Mixed traffic for the slow suite: every kind of request the service answers, good and bad,
driven by a bounded number of concurrent clients for a bounded time."""

from __future__ import annotations

import asyncio
import io
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
import numpy as np
import orjson
from PIL import Image

V2 = "/v2/models/mnist-mlp/infer"


@dataclass(frozen=True)
class Call:
    """One request: method, path, body, headers, and whether it is meant to be refused."""

    name: str
    path: str
    body: bytes
    headers: dict[str, str]
    malformed: bool = False


def _images(n: int) -> np.ndarray:
    return np.random.default_rng(n).normal(size=(n, 784)).astype(np.float32)


def _v2_json(n: int) -> bytes:
    x = _images(n)
    tensor = {"name": "input", "shape": [n, 784], "datatype": "FP32", "data": x.ravel()}
    return orjson.dumps({"inputs": [tensor]}, option=orjson.OPT_SERIALIZE_NUMPY)


def v2_binary(n: int) -> tuple[bytes, dict[str, str]]:
    raw = _images(n).tobytes()
    tensor = {"name": "input", "shape": [n, 784], "datatype": "FP32",
              "parameters": {"binary_data_size": len(raw)}}  # fmt: skip
    header = orjson.dumps({"inputs": [tensor]})
    return header + raw, {"inference-header-content-length": str(len(header))}


def canvas_png() -> bytes:
    """A 280x280 transparent canvas with a black stroke: what the web page uploads."""
    image = Image.new("RGBA", (280, 280), (0, 0, 0, 0))
    image.paste((0, 0, 0, 255), (120, 40, 150, 240))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def mixed_calls() -> list[Call]:
    """The soak's mix: mostly good requests of every kind, a share of malformed ones."""
    json_type = {"content-type": "application/json"}
    binary, binary_headers = v2_binary(4)
    bowl = orjson.dumps({"init": "zeros", "learning_rate": 0.1, "steps": 20})
    line = orjson.dumps({"init": "trained", "x": [[60.0], [80.0]], "y": [165.0, 185.0],
                         "learning_rate": 0.1, "steps": 5})  # fmt: skip
    good = [
        Call("v2-json", V2, _v2_json(1), json_type),
        Call("v2-json-batch", V2, _v2_json(16), json_type),
        Call("v2-binary", V2, binary, binary_headers),
        Call("predict-png", "/predict", canvas_png(), {"content-type": "image/png"}),
        Call("step-bowl", "/v1/models/quadratic-bowl/gradient-step", bowl, json_type),
        Call("step-linear", "/v1/models/linear-regression/gradient-step", line, json_type),
    ]
    bad = [
        Call("bad-json", V2, b'{"inputs": [', json_type, True),
        Call("bad-shape", V2, _v2_json(1).replace(b"[1,784]", b"[1,783]"), json_type, True),
        Call("bad-binary", V2, binary[:-10], binary_headers, True),
        Call("not-an-image", "/predict", b"GIF89a nonsense", {"content-type": "image/gif"}, True),
        Call("unknown-model", "/v2/models/nope/infer", _v2_json(1), json_type, True),
    ]
    return good * 3 + bad


@dataclass
class Tally:
    """What the clients saw: status codes per call, connection errors, problems to report."""

    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)
    connection_errors: int = 0
    problems: list[str] = field(default_factory=list)

    def total(self) -> int:
        return sum(self.statuses.values())

    def count(self, predicate: Any) -> int:
        return sum(n for (_, status), n in self.statuses.items() if predicate(status))


def check_answer(call: Call, response: httpx.Response, tally: Tally) -> None:
    tally.statuses[(call.name, response.status_code)] += 1
    if response.status_code >= 500 or (response.status_code >= 400) != call.malformed:
        tally.problems.append(f"{call.name}: {response.status_code} {response.text[:200]}")
    elif response.status_code >= 400 and "error" not in response.json():
        tally.problems.append(f"{call.name}: error body without 'error': {response.text[:200]}")


async def _client(url: str, calls: list[Call], offset: int, stop: float, tally: Tally) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=30.0) as client:
        i = offset
        while time.monotonic() < stop:
            call = calls[i % len(calls)]
            i += 1
            try:
                response = await client.post(call.path, content=call.body, headers=call.headers)
            except httpx.TransportError as exc:
                tally.connection_errors += 1
                tally.problems.append(f"{call.name}: {type(exc).__name__}: {exc}")
                await asyncio.sleep(0.05)
                continue
            check_answer(call, response, tally)


def drive(
    url: str,
    seconds: float,
    concurrency: int,
    calls: list[Call] | None = None,
    tally: Tally | None = None,
) -> Tally:
    """`concurrency` clients, each cycling through the calls, for `seconds`; the tally fills
    as answers come (another thread may watch it)."""
    tally = tally or Tally()
    mix = calls or mixed_calls()
    stop = time.monotonic() + seconds

    async def everyone() -> None:
        assert tally is not None
        await asyncio.gather(*(_client(url, mix, i, stop, tally) for i in range(concurrency)))

    asyncio.run(everyone())
    return tally
