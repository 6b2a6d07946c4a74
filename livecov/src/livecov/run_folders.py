"""The temporary folders of livecov's servers, and the sweep of those a killed run left.

Each :class:`~livecov.live_server.LiveServer` that makes its own folder removes it on every
exit path of its process, atexit included. A process killed by SIGKILL runs none of them:
its folder stays. So every folder records which processes use it (the one that made it and
its server), each by pid *and* start time (a pid is reused, the pair is not); making a new
folder first removes the folders none of whose processes runs any more, the way pytest's
numbered temporary folders are cleaned by later runs. A folder is only judged where that
judgement is sure: one of this user's, with a record from this boot and this pid namespace
(another container sharing /tmp could run processes this one cannot see); or one of this
user's left without a record for an hour (its maker was killed while making it).
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import tempfile
import time
from pathlib import Path
from typing import Any

PREFIX = "livecov-"
RECORD = "processes.json"
# A folder is made, then its record written, in a few milliseconds; one without a record for
# longer lost its maker in between (killed by SIGKILL: an empty folder, or a half-written
# record), and nothing else would ever remove it.
UNRECORDED_GRACE = 3600.0  # seconds


def make_run_folder() -> Path:
    """A fresh temporary folder recording this process; abandoned ones are removed first."""
    if not Path("/proc/self/stat").exists():  # pragma: no cover - not Linux: no record
        return Path(tempfile.mkdtemp(prefix=PREFIX))
    sweep_abandoned_folders()
    folder = Path(tempfile.mkdtemp(prefix=PREFIX))
    record_processes(folder, [os.getpid()])
    return folder


def record_processes(folder: Path, pids: list[int]) -> None:
    """Record ``pids`` as the processes using ``folder`` (replacing the record there)."""
    record = {
        "boot": _boot_id(),
        "pid_namespace": _pid_namespace(),
        # One gone already is not recorded: a None start time would match it forever.
        "processes": [[pid, start] for pid in pids if (start := _start_time(pid)) is not None],
    }
    partial = folder / (RECORD + ".partial")
    partial.write_text(json.dumps(record))
    partial.replace(folder / RECORD)  # whole or absent, never half-written


def sweep_abandoned_folders() -> list[Path]:
    """Remove this user's livecov folders whose processes are all gone; return them."""
    removed = []
    for folder in sorted(Path(tempfile.gettempdir()).glob(PREFIX + "*")):
        if _abandoned(folder):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def _abandoned(folder: Path) -> bool:
    try:
        info = folder.lstat()
    except OSError:
        return False  # removed meanwhile
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
        return False  # not a folder of ours
    record = _read_record(folder)
    if record is None:  # one being made right now, or one whose maker died making it
        return time.time() - info.st_mtime > UNRECORDED_GRACE
    if record["boot"] != _boot_id():
        return True  # the machine restarted since: none of its processes can run
    if record["pid_namespace"] != _pid_namespace():
        return False  # processes this one cannot see
    return not any(_start_time(pid) == start for pid, start in record["processes"])


def _read_record(folder: Path) -> dict[str, Any] | None:
    try:
        record = json.loads((folder / RECORD).read_text())
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and "processes" in record else None


def _boot_id() -> str:
    return Path("/proc/sys/kernel/random/boot_id").read_text().strip()


def _pid_namespace() -> str:
    return os.readlink("/proc/self/ns/pid")


def _start_time(pid: int) -> int | None:
    """When process ``pid`` started (clock ticks since boot); None if it is gone or a zombie."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return None if fields[0] == "Z" else int(fields[19])
