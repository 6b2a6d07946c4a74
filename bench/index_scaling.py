"""Figure 6: latency of the index (GET /) with 10 posts and with 10 000 posts.

Two flaskr servers are started by livecov's ``LiveServer`` without coverage
(``coverage_config=None``, waitress by default), each with its own fresh database; after the
setup hook has created the schema, posts are inserted straight into
``<tmpdir>/instance/flaskr.sqlite`` with sqlite3. Then, alternating between the two servers,
each run times ``--requests`` sequential GETs on one keep-alive connection and keeps their
median. Target: latency(10 000) / latency(10) <= 1.2, per round.

Also reported (no target): the last page of the 10 000 posts (``/?page=1000``), which
SQLite reaches with OFFSET, so it grows with the page number.

    python bench/index_scaling.py [--runs 5] [--requests 200] [--server waitress]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common
from common import Figure, Stats, ratios

NAME = "index_scaling"
TITLE = "6. Index scaling: latency of / with 10 vs 10 000 posts"
BODY = ("Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 8).strip()


def main(argv: list[str] | None = None) -> int:
    common.ensure_project_venv()
    from livecov import LiveServer

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--server", default="waitress")
    parser.add_argument("--small", type=int, default=10)
    parser.add_argument("--large", type=int, default=10_000)
    args = parser.parse_args(argv)
    started = time.perf_counter()

    servers = {}
    try:
        for size in (args.small, args.large):
            live = LiveServer(common.flaskr_options(server=args.server), None)
            live.start()
            common.seed_posts(live.tmpdir / "instance" / "flaskr.sqlite", size, BODY)
            common.sequential_latencies(live.url + "/", 20)  # warm: templates, page cache
            servers[size] = live
        per_page = 10
        last_page = (args.large + per_page - 1) // per_page

        def measure(size: int, path: str = "/") -> float:
            lat = common.sequential_latencies(servers[size].url + path, args.requests)
            return statistics.median(lat)

        lat = common.alternate(
            {
                "small": lambda: measure(args.small),
                "large": lambda: measure(args.large),
                "large_last_page": lambda: measure(args.large, f"/?page={last_page}"),
            },
            args.runs,
            label="index:",
        )
    finally:
        for live in servers.values():
            try:
                live.stop()
            finally:
                live.cleanup()

    figures = [
        Figure.from_stats(
            "6.small",
            f"GET / with {args.small} posts (median latency)",
            Stats.of(lat["small"]),
            "ms",
            scale=1000,
        ),
        Figure.from_stats(
            "6.large",
            f"GET / with {args.large:,} posts (median latency)",
            Stats.of(lat["large"]),
            "ms",
            scale=1000,
        ),
        Figure.from_stats(
            "6.ratio",
            f"latency {args.large:,} / {args.small} posts",
            ratios(lat["large"], lat["small"]),
            "x",
            "<= 1.2",
        ),
        Figure.from_stats(
            "6.last_page",
            f"GET /?page={last_page} (last of {args.large:,})",
            Stats.of(lat["large_last_page"]),
            "ms",
            scale=1000,
            note="OFFSET pagination: deep pages cost more (no target)",
        ),
    ]
    common.write_results(
        NAME,
        TITLE,
        figures,
        {
            "server": args.server,
            "requests_per_run": args.requests,
            "latency_seconds": lat,
        },
        started,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
