"""The results as Markdown tables: what README's benchmark section shows."""

from __future__ import annotations

from typing import Any

Row = dict[str, Any]


def _ratio(value: float | None, suffix: str = "x") -> str:
    return "" if value is None else f"{value:.2f}{suffix}"


def cells_table(cells: list[Row]) -> list[str]:
    lines = [
        "| contender | workers | c | req/s | p50 ms | p99 ms | errors | x naive req/s "
        "| of ceiling | server CPU us/req | CPU x naive | load1 (max) | conns per worker |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|",
    ]
    for c in sorted(cells, key=lambda c: (c["workers"], c["connections"])):
        ceiling = None if c["of_ceiling"] is None else 100 * c["of_ceiling"]
        lines.append(
            f"| {c['contender']} | {c['workers']} | {c['connections']} | {c['rps']:.0f} "
            f"| {c['p50_ms']:.2f} | {c['p99_ms']:.2f} | {c['errors']} "
            f"| {_ratio(c['x_naive'])} | {_ratio(ceiling, '%')} | {c['cpu_us']:.0f} "
            f"| {_ratio(c['cpu_x_naive'])} | {c['load1']:.2f} ({c['load1_max']:.2f}) "
            f"| {c.get('spread', '')} |"
        )
    return lines


GRPC_DRIVER = (
    "Driven by `benchmarks/grpc_load.py` (wrk cannot speak gRPC): ModelInfer with the image "
    "[1, 784] FP32 in raw_input_contents, c callers in one grpc.aio process, a channel (TCP "
    "connection) each, one request at a time each; the same request bytes for every server. "
    "`driver CPU` is the driver's own CPU per request; `ceiling-grpc` is a grpc.aio server "
    "answering a fixed reply, so its row is what grpcio and the driver alone allow. KServe serves "
    "gRPC from its main process only, whatever its worker count."
)


def _is_grpc(c: Row) -> bool:
    return bool(c.get("transport") == "grpc")


def grpc_table(cells: list[Row]) -> list[str]:
    """One-image gRPC cells, with the driver's own CPU beside the server's."""
    lines = [
        "| contender | workers | c | req/s | p50 ms | p99 ms | errors | of gRPC ceiling "
        "| server CPU us/req | driver CPU us/req | load1 (max) |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    mine = [c for c in cells if _is_grpc(c) and c["images"] == 1]
    for c in sorted(mine, key=lambda c: (c["workers"], c["connections"])):
        ceiling = None if c["of_ceiling"] is None else 100 * c["of_ceiling"]
        lines.append(
            f"| {c['contender']} | {c['workers']} | {c['connections']} | {c['rps']:.0f} "
            f"| {c['p50_ms']:.2f} | {c['p99_ms']:.2f} | {c['errors']} | {_ratio(ceiling, '%')} "
            f"| {c['cpu_us']:.0f} | {c['driver_cpu_us'] or 0:.0f} "
            f"| {c['load1']:.2f} ({c['load1_max']:.2f}) |"
        )
    return lines


def render_grpc(results: Row) -> str:
    """A gRPC-only run (python -m benchmarks --transports grpc)."""
    args = results["args"]
    return "\n".join([
        "# nnserve benchmark: gRPC rows", "",
        f"{results['machine']['cpus']} CPUs, {results['machine']['platform']}; {args['rounds']} "
        f"round(s) of {args['seconds']} s per cell after {args['warmup']} s of warm-up; workers "
        f"{args['workers']}, onnxruntime intra_op={args['intra_op']} inter_op={args['inter_op']} "
        f"for every contender. Wall time {results['wall_seconds']:.0f} s.", "",
        GRPC_DRIVER, "", *grpc_table(results["cells"]), "",
    ])  # fmt: skip


def scaling_table(scaling: list[Row]) -> list[str]:
    lines = [
        "| N images/request | V2 binary images/s (c=8) | in-process images/s | fraction | load1 |",
        "|--:|--:|--:|--:|--:|",
    ]
    for s in scaling:
        lines.append(
            f"| {s['images']} | {s['http_images_per_s']:.0f} | {s['inprocess_images_per_s']:.0f} "
            f"| {100 * s['fraction']:.0f}% | {s['load1']:.2f} |"
        )
    return lines


def targets_table(targets: list[Row]) -> list[str]:
    lines = ["| target | measured | goal | met |", "|---|--:|--:|---|"]
    for t in targets:
        lines.append(
            f"| {t['target']} | {t['value']:.2f} | {t['direction']} {t['goal']} "
            f"| {'yes' if t['met'] else '**no**'} |"
        )
    return lines


def breakdown_table(breakdown: Row) -> list[str]:
    """Stages as rows, the nnserve contenders as columns, microseconds per request at c=1."""
    columns = breakdown["stages_us"]
    names = list(columns)
    if not names:  # it reads the 1-worker cells at c=1: a run of --workers 2 has none
        return ["Not measured: the breakdown needs the 1-worker cells at c=1 (`--workers 1`)."]
    stages = list(columns[names[0]])
    lines = ["| stage, microseconds (one image, c=1) | " + " | ".join(names) + " |"]
    lines.append("|---|" + "--:|" * len(names))
    for stage in stages:
        cells = " | ".join(f"{columns[n][stage]:.0f}" for n in names)
        lines.append(f"| {stage} | {cells} |")
    return lines


def overload_table(row: Row | None) -> list[str]:
    """What a client saw while wrk held 1,000 connections on one worker."""
    if row is None:
        return ["(not measured in this run)"]
    admitted = row.get("server_side", {}).get("admitted", {}).get("n", float("nan"))
    lines = [
        f"wrk c={row['connections']} for {row['seconds']:.0f} s, V2 binary, one worker: "
        f"{row['wrk_rps']:.0f} req/s, p99 {row['wrk_p99_ms']:.1f} ms, {row['wrk_non_2xx']} "
        f"non-2xx answers, {row['socket_errors']} socket errors, server CPU "
        f"{row['cpu_us']:.0f} us/request; {admitted / row['seconds']:.0f} admitted answers/s. "
        "wrk retries a 503 at once, so its p99 includes the up to 1 s nnserve leaves a refused "
        "connection unread (NNSERVE_REFUSED_HOLD_S); the infer probes wait the Retry-After "
        "they are told. Probes, one request at a time beside it:",
        "",
        "| probe | answers | p50 ms | p99 ms | slowest ms |",
        "|---|--:|--:|--:|--:|",
    ]
    for kind, p in row["probes"].items():
        lines.append(
            f"| {kind} | {p['n']} | {p['p50_ms']:.1f} | {p['p99_ms']:.1f} | {p['max_ms']:.1f} |"
        )
    for kind, p in row.get("server_side", {}).items():  # the server's own histogram: bucket bounds
        lines.append(
            f"| {kind}, server-side (<=) | {p['n']:.0f} | {p['p50_ms']:.1f} "
            f"| {p['p99_ms']:.1f} | - |"
        )
    return lines


def render(results: Row) -> str:
    machine = results["machine"]
    args = results["args"]
    head = [
        "# nnserve benchmark",
        "",
        f"{machine['cpus']} CPUs, {machine['platform']}, Python {machine['python']}; "
        f"{args['rounds']} round(s) of {args['seconds']} s per cell after {args['warmup']} s "
        f"of warm-up (first round); wrk -t1; workers {args['workers']} and onnxruntime "
        f"intra_op={args['intra_op']} inter_op={args['inter_op']} for every contender "
        f"(MLServer: parallel_workers = workers, uvloop 0.21). "
        f"Figures are medians over rounds, ratios are medians of per-round ratios; load1 is the "
        f"1-minute load average after each run, median (max) over rounds: the machine is shared, "
        f"so server CPU per request is the steadier figure. `conns per worker` is each round's "
        f"established connections per worker process half-way through (8/0: one worker got the "
        f"whole burst and the other sat idle). "
        f"Wall time {results['wall_seconds']:.0f} s.",
        "",
    ]
    return "\n".join([
        *head, "## Targets", "", *targets_table(results["targets"]), "",
        "## One image per request", "", *cells_table(
            [c for c in results["cells"] if c["images"] == 1 and not _is_grpc(c)]), "",
        "## One image per request over gRPC", "", GRPC_DRIVER, "",
        *grpc_table(results["cells"]), "",
        "## Scaling: V2 binary, N images per request, against onnxruntime in-process", "",
        *scaling_table(results["scaling"]), "",
        "## Overload", "", *overload_table(results.get("overload")), "",
        "## Where a request's time goes", "", *breakdown_table(results["breakdown"]), "",
    ])  # fmt: skip
