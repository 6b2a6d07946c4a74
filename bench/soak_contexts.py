"""Figure 3e: a soak of per-request contexts on sys.monitoring: nothing lost under load.

For each backend, livecov serves the exactness app (tests/livecov/apps/exact.py, WSGI, or
exact_asgi.py, ASGI) measured as it chooses on Python 3.12+ for line coverage with
contexts (sysmon, re-armed at each switch). CLIENTS concurrent clients spread their
requests over CONTEXTS contexts for ROUNDS rounds of SECONDS each, with livecov's reset
between rounds. Afterwards every context's lines must be exactly those of a serial run of
the same requests measured with ctrace, no request may have failed, and the server's
memory (with its workers) after the last round is compared with after the first. Bounded
(time and requests), loopback only; the logic is tests/livecov/soak.py, whose short
version runs in the suite.

    BENCH_NO_REEXEC=1 .venv-3.13/bin/python bench/soak_contexts.py             # 5 x 3 min
    BENCH_NO_REEXEC=1 .venv-3.13/bin/python bench/soak_contexts.py --rounds 3 --seconds 20
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common
from common import ROOT, Figure

sys.path.insert(0, str(ROOT))
from tests.livecov.soak import soak

NAME = "soak_contexts"
TITLE = "3e. Soak: concurrent clients over many contexts, sys.monitoring re-armed"
BACKENDS = {
    "werkzeug": ("exact:app", "werkzeug"),
    "waitress": ("exact:app", "waitress"),
    "gunicorn": ("exact:app", "gunicorn"),
    "uvicorn": ("exact_asgi:app", "uvicorn"),
    "gunicorn-uvicorn": ("exact_asgi:app", "gunicorn"),
}
APPS = ROOT / "tests" / "livecov" / "apps"


def main(argv: list[str] | None = None) -> int:
    common.ensure_project_venv()
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backends", default=",".join(BACKENDS))
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--contexts", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=30, help="per round")
    parser.add_argument("--max-requests", type=int, default=500_000, help="per backend")
    args = parser.parse_args(argv)
    names = [name.strip() for name in args.backends.split(",") if name.strip()]
    unknown = [name for name in names if name not in BACKENDS]
    if unknown:
        parser.error(f"unknown backend {unknown[0]!r} (one of {', '.join(BACKENDS)})")
    started = time.perf_counter()
    figures: list[Figure] = []
    details: dict[str, Any] = {"python": sys.version.split()[0], **vars(args)}
    for name in names:
        app, server = BACKENDS[name]
        project = Path(tempfile.mkdtemp(prefix="bench-soak-"))
        cwd = os.getcwd()
        try:
            for module in ("exact.py", "exact_asgi.py"):
                shutil.copy(APPS / module, project)
            os.chdir(project)
            sys.path.insert(0, str(project))
            result = soak(
                project,
                app,
                server,
                args.clients,
                args.contexts,
                args.rounds,
                args.seconds,
                args.max_requests,
            )
        finally:
            os.chdir(cwd)
            sys.path.remove(str(project))
            shutil.rmtree(project, ignore_errors=True)
        growth = result.rss_end / result.rss_first_round
        wrong = result.wrong_contexts
        print(
            f"{name}: {result.requests} requests, {len(result.failures)} failed, "
            f"{len(wrong)} of {len(result.expected)} contexts wrong, memory x{growth:.3f}",
            flush=True,
        )
        figures += [
            Figure(f"3e.{name}.requests", f"{name}: requests", result.requests, unit="", runs=1),
            Figure(
                f"3e.{name}.failed",
                f"{name}: failed requests",
                len(result.failures),
                runs=1,
                target="== 0",
                met=not result.failures,
            ),
            Figure(
                f"3e.{name}.wrong",
                f"{name}: contexts whose lines differ from the serial run",
                len(wrong),
                runs=1,
                target="== 0",
                met=not wrong,
                note=", ".join(wrong[:5]),
            ),
            Figure(
                f"3e.{name}.memory",
                f"{name}: server memory, last round / first round",
                growth,
                unit="x",
                runs=1,
                target="<= 1.1",
                met=growth <= 1.1,
                note=f"RSS kB {result.rss_first_round} -> {result.rss_end}",
            ),
        ]
        details[name] = {"failures": result.failures[:20], "wrong_contexts": wrong}
    common.write_results(NAME, TITLE, figures, details, started)
    return 0 if all(f.met is not False for f in figures) else 1


if __name__ == "__main__":
    sys.exit(main())
