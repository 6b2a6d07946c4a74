"""How fast ``livecov affected`` answers on flaskr's data (target: under a second).

The data is ``make test``'s ``.coverage`` (unit, livecov and browser tests; flaskr and
livecov measured, with contexts, recorded) when there is one, else the flaskr suite is
measured first in a throw-away copy (as ``make affected-check`` does). A shared clone of
the repository at the recorded commit gets one realistic change (a view's error message);
``livecov affected`` on it is compared, alternating, with ``livecov --version`` (the same
interpreter and imports: the floor any CLI pays).

    python bench/affected_speed.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common
from affected_check import Copy

CHANGE = ("flaskr/src/flaskr/blog.py", '"Title is required."', '"A title is required."')


def recorded_data(where: Path) -> tuple[Path, Path, str]:
    """(repository, data file, what the data is): make test's, else a fresh measurement."""
    sys.path.insert(0, str(common.ROOT / "livecov" / "src"))
    from livecov.affected import read_record

    data = common.ROOT / ".coverage"
    stored = read_record(data) if data.is_file() else None
    if stored is None or stored.commit is None:
        copy = Copy(where)
        copy.make()
        copy.baseline(testmon=False)
        return copy.repo, copy.data, "the flaskr suite (unit + browser), measured afresh"
    repo = where / "repo"
    subprocess.run(
        ["git", "clone", "-q", "--shared", "--no-checkout", str(common.ROOT), str(repo)],
        check=True,
    )
    subprocess.run(["git", "checkout", "-q", stored.commit], cwd=repo, check=True)
    return repo, data, "make test's .coverage (unit, livecov and browser tests)"


def main(argv: list[str] | None = None) -> int:
    common.ensure_project_venv()
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    where = Path(tempfile.mkdtemp(prefix="affected-speed-"))
    try:
        repo, data, source = recorded_data(where)
        path, old, new = CHANGE
        target = repo / path
        target.write_text(target.read_text().replace(old, new, 1))
        livecov = str(common.ROOT / ".venv" / "bin" / "livecov")
        env = common.clean_env()
        answer = common.run_timed(
            [livecov, "affected", "--data-file", str(data)], cwd=repo, env=env
        )
        lines = answer.output.splitlines()
        selected = sum(1 for line in lines if not line.startswith("livecov:"))
        common.log(lines[-1])
        commands = {
            "affected": [livecov, "affected", "--data-file", str(data)],
            "version": [livecov, "--version"],
        }
        cpu: dict[str, list[float]] = {name: [] for name in commands}

        def timed(name: str) -> float:
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            seconds = common.run_timed(commands[name], cwd=repo, env=env).seconds
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu[name].append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
            return seconds

        values = common.alternate(
            {name: lambda name=name: timed(name) for name in commands},
            runs=args.runs,
            warmup=1,
            label="affected",
        )
    finally:
        shutil.rmtree(where, ignore_errors=True)
    affected = common.Stats.of(values["affected"])
    figures = [
        common.Figure.from_stats(
            "affected.answer",
            "livecov affected, one changed view",
            affected,
            unit="s",
            target="< 1",
            note=f"data: {source}; {selected} tests selected",
        ),
        common.Figure.from_stats(
            "affected.floor",
            "livecov --version (the floor)",
            common.Stats.of(values["version"]),
            unit="s",
        ),
        common.Figure.from_stats(
            "affected.cpu",
            "livecov affected, CPU time (steadier under load)",
            common.Stats.of(cpu["affected"][-args.runs :]),
            unit="s",
            target="< 1",
        ),
        common.Figure.from_stats(
            "affected.ratio",
            "affected / --version",
            common.ratios(values["affected"], values["version"]),
            unit="x",
        ),
    ]
    common.write_results(
        "affected_speed",
        "livecov affected: time to answer",
        figures,
        details={"source": source, "selected": selected},
        started=started,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
