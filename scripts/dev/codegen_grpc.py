"""Generate service/grpc/inference_pb2.py(+.pyi) from service/grpc/inference.proto.

    python scripts/dev/codegen_grpc.py            # rewrite the committed files
    python scripts/dev/codegen_grpc.py --out DIR  # write them under DIR instead (the test)

The generated code is committed: the service then needs only grpcio and protobuf to run,
never grpcio-tools (a compiler, 10 MB installed), and `make run` has no build step. One edit
is made to protoc's output: the descriptors go into a private DescriptorPool instead of
protobuf's process-wide default one. tritonclient.grpc and KServe each register their own
copy of the protobuf package `inference` in that default pool, and two copies there refuse
to load together; in a private pool nnserve's copy shares a process with either of them.
Only message and method names travel on the wire, so the pool changes nothing a client sees.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from grpc_tools import protoc

ROOT = Path(__file__).resolve().parents[2]
PROTO = Path("service/grpc/inference.proto")
GENERATED = ("inference_pb2.py", "inference_pb2.pyi")
DEFAULT_POOL = "DESCRIPTOR = _descriptor_pool.Default().AddSerializedFile("
PRIVATE_POOL = (
    "# nnserve: a private pool, so tritonclient's or KServe's `inference` can load beside it.\n"
    "POOL = _descriptor_pool.DescriptorPool()\n"
    "DESCRIPTOR = POOL.AddSerializedFile("
)


def generate(out: Path) -> list[Path]:
    """Run protoc on the .proto, move the descriptors to a private pool, write into out."""
    with tempfile.TemporaryDirectory() as scratch:
        args = ["protoc", "-I", str(ROOT), f"--python_out={scratch}", f"--pyi_out={scratch}"]
        if protoc.main([*args, str(ROOT / PROTO)]) != 0:
            raise SystemExit(f"protoc failed on {PROTO}")
        written = []
        for name in GENERATED:
            text = (Path(scratch) / PROTO.parent / name).read_text()
            if name.endswith(".py"):
                if text.count(DEFAULT_POOL) != 1:
                    raise SystemExit("protoc's output changed shape: no single default pool")
                text = text.replace(DEFAULT_POOL, PRIVATE_POOL)
            target = out / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
            written.append(target)
    return written


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / PROTO.parent)
    for path in generate(parser.parse_args(argv).out):
        print(f"wrote {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
