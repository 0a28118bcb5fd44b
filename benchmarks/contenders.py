"""Start each contender with the same worker count and onnxruntime threads."""

from __future__ import annotations

import tempfile
from pathlib import Path

from benchmarks.mlserver import env as mlserver_env
from benchmarks.servers import ROOT, Server, Threads, free_port, launch, start, stop


def _threads(threads: Threads) -> list[str]:
    return ["--intra-op", str(threads.intra_op), "--inter-op", str(threads.inter_op)]


def naive(model: Path, threads: Threads, workers: int) -> Server:
    port = free_port()
    argv = ["-m", "benchmarks.naive_server", "--model", str(model), "--port", str(port)]
    argv += ["--workers", str(workers), *_threads(threads)]
    return start("naive", argv, "/health", {}, port)


def ceiling(workers: int) -> Server:
    port = free_port()
    argv = ["-m", "benchmarks.ceiling", "--port", str(port), "--workers", str(workers)]
    return start("ceiling", argv, "/", {}, port)


def grpc_ceiling(workers: int) -> Server:
    """The gRPC ceiling (benchmarks/grpc_ceiling.py); up once its port takes a call."""
    from benchmarks import grpc_load  # grpcio only where gRPC is measured

    port = free_port()
    argv = ["-m", "benchmarks.grpc_ceiling", "--port", str(port), "--workers", str(workers)]
    server = launch("grpc-ceiling", argv, {}, port)
    server.grpc = f"127.0.0.1:{port}"
    try:
        grpc_load.wait_until_up(server)
    except Exception:
        stop(server)
        raise
    return server


def kserve(model: Path, threads: Threads, workers: int) -> Server:
    """REST on one port, gRPC on another (KServe serves gRPC from its main process only,
    whatever the worker count: that is how its ModelServer is built)."""
    port, grpc_port = free_port(), free_port()
    argv = ["-m", "benchmarks.kserve_server", "--model", str(model), "--port", str(port)]
    argv += ["--grpc-port", str(grpc_port), "--workers", str(workers), *_threads(threads)]
    server = start("kserve", argv, "/v2/models/mnist-mlp/ready", {}, port)
    server.grpc = f"127.0.0.1:{grpc_port}"
    return server


def mlserver(model: Path, threads: Threads, workers: int) -> Server:
    """`mlserver start` from its own venv, parallel_workers = workers; its settings live in a
    temporary folder that outlives the process only until the OS cleans /tmp, and it runs
    there: MLServer writes its .metrics/ into its working directory (and exits when
    metrics_dir points elsewhere), which would otherwise be the checkout."""
    binary = mlserver_env.mlserver_binary()
    folder = Path(tempfile.mkdtemp(prefix="nnserve-mlserver-"))
    http, grpc, metrics = free_port(), free_port(), free_port()
    mlserver_env.write_settings(
        folder, model.resolve(), (http, grpc, metrics), workers,
        (threads.intra_op, threads.inter_op),
    )  # fmt: skip
    environment = {"PYTHONPATH": str(ROOT)}  # the runtime module: benchmarks/mlserver/runtime.py
    server = start(
        "mlserver", ["start", str(folder)], "/v2/models/mnist-mlp/ready", environment, http,
        executable=str(binary), cwd=folder,
    )  # fmt: skip
    server.grpc = f"127.0.0.1:{grpc}"
    return server


def nnserve(name: str, models_dir: Path, threads: Threads, workers: int, **settings: str) -> Server:
    """`python -m service` with NNSERVE_ settings (e.g. batch_max_wait_us="0"); gRPC on a
    free port unless settings say (grpc_port="0" turns it off)."""
    port, grpc_port, probe_port = free_port(), free_port(), free_port()
    env = {
        "NNSERVE_PROBE_PORT": str(probe_port),
        "NNSERVE_HOST": "127.0.0.1",
        "NNSERVE_PORT": str(port),
        "NNSERVE_GRPC_PORT": str(grpc_port),
        "NNSERVE_MODELS_DIR": str(models_dir),
        "NNSERVE_WORKERS": str(workers),
        "NNSERVE_INTRA_OP_NUM_THREADS": str(threads.intra_op),
        "NNSERVE_INTER_OP_NUM_THREADS": str(threads.inter_op),
        **{f"NNSERVE_{key.upper()}": value for key, value in settings.items()},
    }
    server = start(name, ["-m", "service"], "/v2/health/ready", env, port)
    if env["NNSERVE_GRPC_PORT"] != "0":
        server.grpc = f"127.0.0.1:{env['NNSERVE_GRPC_PORT']}"
    if env["NNSERVE_PROBE_PORT"] != "0":
        server.probe = f"http://127.0.0.1:{env['NNSERVE_PROBE_PORT']}"
    return server
