"""Figure 8: the ASGI gate when two tests' requests interleave (uvicorn, one event loop).

A FastAPI endpoint that awaits 2 ms in the middle (bench/asgi_gate_app.py) is served by
livecov under uvicorn and loaded with ``wrk -t1 -c4`` (4 requests in flight), alternating
these variants in each round:

  nocov    no coverage: the baseline
  noctx    coverage, ``--no-contexts``: no gate at all
  cov      coverage and contexts, every request of one context (wrk sends none): the gate
           lets all of them in together
  switch   coverage and contexts, request i named ``bench-test-<i % 2>``: two contexts
           interleave, so the gate serializes them and switches the context (a flush of
           the tracer's data) whenever the other one's turn comes

    python bench/asgi_gate.py [--runs 3] [--seconds 5]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common
from common import Figure, Stats, ratios

NAME = "asgi_gate"
TITLE = "8. ASGI gate: two interleaving contexts on one event loop (req/s, uvicorn)"
VARIANTS = ("nocov", "noctx", "cov", "switch")


def one_run(variant: str, args: argparse.Namespace, cpu: dict[str, list[float]]) -> float:
    from livecov import LiveServer, ServerOptions

    config = None if variant == "nocov" else common.project_coverage_config(source=["bench"])
    options = ServerOptions(
        app="bench.asgi_gate_app:app",
        server="uvicorn",
        contexts=variant != "noctx",
        cwd=str(common.ROOT),
    )
    live = LiveServer(options, config)
    try:
        url = live.start() + "/work"
        pid = live.process.pid
        common.sequential_latencies(url, 20)
        cycle = ("Livecov-Context", "bench-test-", 2) if variant == "switch" else None
        cpu0 = common.process_cpu_seconds(pid)
        result = common.load(url, args.seconds, args.connections, cycle=cycle)
        cpu1 = common.process_cpu_seconds(pid)
        if result.errors:
            raise RuntimeError(f"{result.errors} failed requests under load")
        live.stop()
    finally:
        live.cleanup()
    cpu.setdefault(variant, []).append((cpu1 - cpu0) * 1000 / max(result.requests, 1))
    return result.rps


def main(argv: list[str] | None = None) -> int:
    common.ensure_project_venv()
    parser = common.load_benchmark_parser(__doc__)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    common.require_tools(parser, "wrk")
    cpu: dict[str, list[float]] = {}
    runners = {v: (lambda v=v: one_run(v, args, cpu)) for v in VARIANTS}
    rps = common.alternate(runners, args.runs, label="uvicorn:")
    figures: list[Figure] = [
        Figure.from_stats(f"8.{v}.rps", f"req/s, {v}", Stats.of(rps[v]), "req/s") for v in VARIANTS
    ]
    for v in VARIANTS[1:]:
        figures.append(
            Figure.from_stats(
                f"8.{v}.cost",
                f"slowdown {v} vs nocov (req/s ratio)",
                ratios(rps["nocov"], rps[v]),
                "x",
            )
        )
    figures.append(
        Figure.from_stats(
            "8.switch-vs-cov",
            "two interleaving contexts vs one (req/s ratio)",
            ratios(rps["cov"], rps["switch"]),
            "x",
            note=", ".join(f"CPU ms/request {v} {Stats.of(cpu[v]).median:.2f}" for v in VARIANTS),
        )
    )
    details: dict[str, Any] = {
        "python": sys.version.split()[0],
        "load": f"wrk -t1 -c{args.connections} -d{args.seconds:g}s",
        "cpu_ms_per_request": cpu,
    }
    common.write_results(NAME, TITLE, figures, details, started)
    return 0


if __name__ == "__main__":
    sys.exit(main())
