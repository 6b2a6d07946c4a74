"""Run every benchmark in bench/ and print one table of all the figures (``make bench``).

Each benchmark runs as its own process (as ``python bench/<name>.py`` would), prints its
own figures as it finishes and writes bench/results/<name>.json; this script then reads
those files and prints them all in one table, targets included, and writes
bench/results/all.json (and, with ``--markdown FILE``, the table as Markdown).

The whole run is bounded (about 8 minutes on the 2-core machine): cheap figures take 5
alternating runs, expensive ones 3, the browser suite and ``make test`` fewer.

    python bench/run_all.py [--only startup,e2e] [--skip make_test] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common

# (script, its arguments for the full run, for --quick); in this order: the browser suite
# and `make test` last, as they depend on the most moving parts.
SCRIPTS: list[tuple[str, list[str], list[str]]] = [
    ("unit_suite", ["--runs", "3"], ["--runs", "1"]),
    ("startup", ["--runs", "5"], ["--runs", "2"]),
    ("coverage_overhead", ["--runs", "3", "--seconds", "5"], ["--runs", "1", "--seconds", "2"]),
    ("asgi_gate", ["--runs", "3", "--seconds", "5"], ["--runs", "1", "--seconds", "2"]),
    ("index_scaling", ["--runs", "5"], ["--runs", "2", "--requests", "50"]),
    ("anchor", ["--runs", "3"], ["--runs", "1"]),
    ("affected_speed", ["--runs", "5"], ["--runs", "2"]),
    ("jinja_overhead", ["--runs", "5"], ["--runs", "1", "--requests", "50"]),
    ("e2e", ["--runs", "1"], ["--runs", "1"]),
    ("make_test", ["--runs", "1"], ["--runs", "1"]),
]
TIMEOUT = {"e2e": 900, "make_test": 900}
# The numbering of the figures, for the table.
FIGURE_ORDER = [
    "unit_suite",
    "startup",
    "coverage_overhead",
    "e2e",
    "make_test",
    "index_scaling",
    "anchor",
    "affected_speed",
    "jinja_overhead",
    "asgi_gate",
]


def main(argv: list[str] | None = None) -> int:
    common.ensure_project_venv()
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", default="", help="comma-separated script names")
    parser.add_argument("--skip", default="", help="comma-separated script names")
    parser.add_argument("--quick", action="store_true", help="one or two runs each (smoke)")
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="run nothing: print the table of the results already in bench/results/",
    )
    parser.add_argument(
        "--markdown", type=Path, default=None, help="also write the table as Markdown to this file"
    )
    args = parser.parse_args(argv)
    only = {s for s in args.only.split(",") if s}
    skip = {s for s in args.skip.split(",") if s}
    names = [s[0] for s in SCRIPTS]
    for name in only | skip:
        if name not in names:
            parser.error(f"no benchmark {name!r}; there are {', '.join(names)}")
    started = time.perf_counter()
    statuses: dict[str, int | str] = {}
    if args.report_only:
        statuses = {n: 0 for n in names if (common.RESULTS / f"{n}.json").exists()}
    else:
        # Once, up front: the load figures need wrk, the command timings hyperfine.
        common.require_tools(parser, "wrk", "hyperfine")
    for name, full, quick in SCRIPTS:
        if args.report_only or (only and name not in only) or name in skip:
            continue
        cmd = [sys.executable, str(common.BENCH / f"{name}.py"), *(quick if args.quick else full)]
        print(f"\n=== {name}: {' '.join(['python', f'bench/{name}.py', *cmd[2:]])}", flush=True)
        # A stale result must not stand in for a benchmark that failed this time.
        (common.RESULTS / f"{name}.json").unlink(missing_ok=True)
        began = time.perf_counter()
        try:
            code: int | str = subprocess.run(
                cmd, cwd=common.ROOT, timeout=TIMEOUT.get(name, 600)
            ).returncode
        except subprocess.TimeoutExpired:
            code = "timed out"
        statuses[name] = code
        print(f"=== {name}: {time.perf_counter() - began:.0f} s, exit {code}", flush=True)

    rows: list[list[str]] = []
    collected = []
    for name in sorted(statuses, key=lambda n: FIGURE_ORDER.index(n)):
        if name not in statuses:
            continue
        path = common.RESULTS / f"{name}.json"
        if not path.exists():
            rows.append([name, f"(no result: exit {statuses[name]})", "", "", "", "", "", ""])
            continue
        result = json.loads(path.read_text())
        collected.append(result)
        rows += [common.figure_row(f) for f in result["figures"]]

    machine = common.machine_info()
    total = time.perf_counter() - started
    versions = ", ".join(f"{k} {v}" for k, v in machine["versions"].items())
    took = "from bench/results" if args.report_only else f"{total / 60:.1f} min"
    header = (
        f"All figures ({took}): {machine['cpu']}, {machine['cores']} cores, "
        f"load average now {machine['load_average']}\n{versions}"
    )
    print("\n" + "=" * 100)
    print(header)
    print(common.format_table(rows))
    notes = [(f["id"], f["note"]) for r in collected for f in r["figures"] if f.get("note")]
    for fid, note in notes:
        print(f"  [{fid}] {note}")
    missed = [row[0] for row in rows if row[-1] == "NO"]
    print(f"targets missed: {', '.join(missed) if missed else 'none'}")
    common.RESULTS.mkdir(parents=True, exist_ok=True)
    if not args.report_only:
        (common.RESULTS / "all.json").write_text(
            json.dumps(
                {
                    "command": common.command_line(),
                    "total_seconds": round(total, 1),
                    "machine": machine,
                    "statuses": statuses,
                    "results": collected,
                },
                indent=2,
                default=str,
            )
            + "\n"
        )
    if args.markdown:
        args.markdown.write_text(header + "\n\n" + common.markdown_table(rows) + "\n")
    failed = [n for n, c in statuses.items() if c != 0]
    if failed:
        print(f"benchmarks that did not finish cleanly: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
