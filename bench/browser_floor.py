"""Figure 4b: what one browser step costs here, apart from the app: the floor under figure 4.

One live flaskr server (livecov, measured like ``make test``'s, werkzeug) and one Chromium
page (as tests/e2e uses it), then, alternating, the median over ``--steps`` of:

  navigate   ``page.goto("/auth/login")``: a navigation, as a test opens a page (HTML,
             stylesheet, layout, load event)
  fetch      ``fetch("/auth/login")`` run inside that page: the same request and answer,
             through the same browser and server, without a navigation
  fill       ``locator.fill()`` of the username field: one interaction on a loaded page

``navigate / fetch`` is what a navigation costs over the server's answer. A browser test
that opens N pages cannot take less than N x navigate. Then tests/e2e runs once with
bench/navigation_count.py, which counts the pages each test opens: their median times
``navigate`` is the floor of figure 4's median, before any fill, click or check.

    python bench/browser_floor.py [--runs 5] [--steps 15] [--no-count]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common
from common import Stats, ratios

NAME = "browser_floor"
TITLE = "4b. One browser step: navigation vs the same request by fetch()"


def median_ms(step: Callable[[], object], count: int) -> float:
    times = []
    for _ in range(count):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def measure(runs: int, steps: int) -> dict[str, list[float]]:
    from playwright.sync_api import sync_playwright

    from livecov import LiveServer
    from livecov.browser import find_chromium, launch_args

    config = common.project_coverage_config()
    with LiveServer(common.flaskr_options(), config) as server, sync_playwright() as p:
        browser = p.chromium.launch(**launch_args(find_chromium()))
        try:
            page = browser.new_context(base_url=server.url).new_page()
            page.goto("/auth/login")
            username = page.get_by_label("Username")
            variants = {
                "navigate": lambda: median_ms(lambda: page.goto("/auth/login"), steps),
                "fetch": lambda: median_ms(
                    lambda: page.evaluate("fetch('/auth/login').then(r => r.text())"), steps
                ),
                "fill": lambda: median_ms(lambda: username.fill("alice"), steps),
            }
            return common.alternate(variants, runs, warmup=1, label=NAME)
        finally:
            browser.close()


def navigations_per_test() -> list[int]:
    """Run tests/e2e once with the counting plugin: the pages each test opened."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder, "counts.json")
        env = common.clean_env(
            PYTHONPATH=str(Path(__file__).parent), NAVIGATION_COUNT_FILE=str(out)
        )
        subprocess.run(
            [common.project_python(), "-m", "pytest", "tests/e2e", "-q", "-n", "0",
             "-p", "navigation_count", "-p", "no:randomly", "-p", "no:cacheprovider"],
            cwd=common.ROOT, env=env, check=True, stdout=subprocess.DEVNULL, timeout=900,
        )  # fmt: skip
        return sorted(json.loads(out.read_text()).values())


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5, help="rounds (default 5)")
    parser.add_argument("--steps", type=int, default=15, help="steps per round (default 15)")
    parser.add_argument("--no-count", action="store_true", help="skip the e2e navigation count")
    args = parser.parse_args()
    times = measure(args.runs, args.steps)
    for name, values in times.items():
        print(
            f"{name:9} median {Stats.of(values).median:6.1f} ms  (rounds: "
            + ", ".join(f"{v:.0f}" for v in values)
            + ")"
        )
    ratio = ratios(times["navigate"], times["fetch"])
    print(f"navigate / fetch: {ratio.median:.1f}x (per round {ratio.min:.1f}-{ratio.max:.1f})")
    if not args.no_count:
        pages = navigations_per_test()
        navigate = Stats.of(times["navigate"]).median
        middle = statistics.median(pages)
        print(
            f"tests/e2e: {len(pages)} tests open {sum(pages)} pages; per test median {middle:g}"
            f" (min {pages[0]}, max {pages[-1]}): floor of the median test"
            f" {middle * navigate:.0f} ms in navigations alone"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
