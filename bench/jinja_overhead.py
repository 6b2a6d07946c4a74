"""Figure 8: what livecov.jinja adds to a measured request: flaskr's index under coverage.

Each run is its own process: ``coverage run`` (branch on, source = flaskr, contexts off)
of a driver that seeds 10 posts (one full page), warms up, then times GET / with Flask's
test client, one request after another, and prints the median CPU time per request (the
process's CPU time: on a shared machine steadier than wall time, and what a tracer adds). The two
variants differ only in ``plugins = ["livecov.jinja"]`` (and, with it, the core the plugin
picks, the C tracer, which is the default on this Python anyway); their runs alternate,
and each round's ratio plugin / no plugin is a pair measured side by side.

    python bench/jinja_overhead.py [--runs 5] [--requests 300]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common
from common import Figure, Stats, ratios

NAME = "jinja_overhead"
TITLE = "9. livecov.jinja: a measured request of flaskr's index, with and without the plugin"

DRIVER = """\
import os, statistics, sys, tempfile, time
from flaskr import create_app
from flaskr.db import init_db

requests = int(sys.argv[1])
folder = tempfile.mkdtemp()
app = create_app({"DATABASE": os.path.join(folder, "db.sqlite"), "SECRET_KEY": "bench"})
with app.app_context():
    init_db()
    from flaskr.db import get_db
    db = get_db()
    db.execute("INSERT INTO user (username, password) VALUES ('bench', 'x')")
    db.executemany(
        "INSERT INTO post (title, body, author_id) VALUES (?, ?, 1)",
        [(f"Post {i}", "A body.\\nSecond line.") for i in range(10)],
    )
    db.commit()
client = app.test_client()
for _ in range(20):
    assert client.get("/").status_code == 200
times = []
for _ in range(requests):
    start = time.process_time()
    client.get("/")
    times.append(time.process_time() - start)
print(statistics.median(times))
"""

RCFILE = """\
[run]
branch = true
source = {source}
{plugins}
"""


def run_variant(folder: Path, plugin: bool, requests: int) -> float:
    rc = folder / ("with.rc" if plugin else "without.rc")
    rc.write_text(
        RCFILE.format(
            source=common.ROOT / "flaskr" / "src" / "flaskr",
            plugins="plugins = livecov.jinja" if plugin else "",
        )
    )
    done = subprocess.run(
        [common.project_python(), "-m", "coverage", "run", f"--rcfile={rc}",
         f"--data-file={folder / '.coverage'}", str(folder / "driver.py"), str(requests)],
        env=common.clean_env(), cwd=folder, capture_output=True, text=True, check=True,
        timeout=600,
    )  # fmt: skip
    return float(done.stdout.split()[-1])


def main(argv: list[str] | None = None) -> int:
    common.ensure_project_venv()
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "driver.py").write_text(DRIVER)
        values = common.alternate(
            {
                "coverage": lambda: run_variant(folder, False, args.requests),
                "coverage+jinja": lambda: run_variant(folder, True, args.requests),
            },
            runs=args.runs,
            label=NAME,
        )
    figures = [
        Figure.from_stats(
            "9a", "GET / (10 posts), coverage alone, CPU", Stats.of(values["coverage"]),
            unit="ms", scale=1000,
        ),
        Figure.from_stats(
            "9b", "GET / (10 posts), coverage + livecov.jinja, CPU",
            Stats.of(values["coverage+jinja"]), unit="ms", scale=1000,
        ),
        Figure.from_stats(
            "9c", "ratio: with the plugin / without (same round)",
            ratios(values["coverage+jinja"], values["coverage"]), target="<= 1.1",
        ),
    ]  # fmt: skip
    common.write_results(
        NAME, TITLE, figures, details={"requests": args.requests, "values": values},
        started=started,
    )  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
