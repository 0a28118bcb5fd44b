"""The committed Python matches inference.proto, and the proto matches what the clients speak.

tritonclient.grpc and KServe ship their own generated copies of package `inference`; each is
described in its own process and compared, field by field (name, number, type), with ours.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from service.grpc import inference_pb2
from tests.grpc.clients.describe import describe

ROOT = Path(__file__).resolve().parents[2]
CLIENTS = Path(__file__).parent / "clients"


def described_elsewhere(module: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, str(CLIENTS / "describe.py"), module],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        cwd=ROOT,
    )
    return dict(json.loads(out.stdout))


def test_committed_code_is_generated_from_the_proto(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "scripts/dev/codegen_grpc.py", "--out", str(tmp_path)],
        check=True,
        timeout=120,
        cwd=ROOT,
    )
    for name in ("inference_pb2.py", "inference_pb2.pyi"):
        committed = (ROOT / "service" / "grpc" / name).read_text()
        assert (tmp_path / name).read_text() == committed, f"regenerate {name}"


def test_private_pool_shares_a_process_with_kserve() -> None:
    import kserve.protocol.grpc.grpc_predict_v2_pb2 as theirs  # the default pool's `inference`

    ours = inference_pb2.ModelInferRequest(model_name="m", id="x")
    assert theirs.ModelInferRequest.FromString(ours.SerializeToString()).id == "x"
    assert inference_pb2.DESCRIPTOR.pool is not theirs.DESCRIPTOR.pool


SPEC_METHODS = {
    "ServerLive",
    "ServerReady",
    "ModelReady",
    "ServerMetadata",
    "ModelMetadata",
    "ModelInfer",
}


@pytest.mark.parametrize(
    ("module", "complete"),
    [("tritonclient.grpc.service_pb2", True), ("kserve.protocol.grpc.grpc_predict_v2_pb2", False)],
)
def test_wire_compatible_with_the_clients(module: str, complete: bool) -> None:
    """Triton's copy holds every method and field of ours; KServe's holds the protocol's
    methods and messages, and every field they share has the same number and type."""
    ours, theirs = describe("service.grpc.inference_pb2"), described_elsewhere(module)
    assert ours["package"] == theirs["package"] == "inference"
    methods = set(ours["methods"]) if complete else SPEC_METHODS
    for method in methods:
        assert theirs["methods"][method] == ours["methods"][method], method
    shared = 0
    for message, fields in ours["messages"].items():
        if not complete and "Repository" in message:
            continue  # KServe's repository messages are its own, not Triton's
        for field, number_and_type in fields.items():
            other = theirs["messages"][message].get(field)
            if other is None and not complete:
                continue
            assert other == number_and_type, f"{message}.{field}"
            shared += 1
    assert shared > 60
