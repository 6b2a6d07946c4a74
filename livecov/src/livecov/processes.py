"""Stopping a process group as a whole: a signal, a grace time, then SIGKILL.

The test command runs in a process group of its own, so that everything it starts (a shell's
children, a test runner's browsers) can be stopped with it, and nothing is left running
when ``livecov run`` ends, whatever way it ends.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path

# How often to look whether a group is gone during its grace time. There is no event for
# "every member of a process group has exited" (only the leader is our child).
_POLL_SECONDS = 0.02


def group_members(pgid: int) -> list[int]:
    """The live (not zombie) processes of process group ``pgid``."""
    proc = Path("/proc")
    if not proc.is_dir():  # pragma: no cover - not Linux: any member, zombies included
        try:
            os.killpg(pgid, 0)
        except (ProcessLookupError, PermissionError):
            return []
        return [pgid]
    members = []
    for entry in proc.iterdir():
        if entry.name.isdigit() and _live_member_of(entry, pgid):
            members.append(int(entry.name))
    return members


def _live_member_of(entry: Path, pgid: int) -> bool:
    try:
        # The command name may hold spaces and parentheses: the fields follow its last ")".
        fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
    except OSError:  # gone meanwhile
        return False
    return fields[0] != "Z" and int(fields[2]) == pgid


def signal_group(pgid: int, sig: int) -> None:
    """Send ``sig`` to every process of the group; nothing when it is gone already."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def stop_group(leader: subprocess.Popen[bytes], first: int, grace: float) -> None:
    """Stop the process group that ``leader`` leads: ``first``, then SIGKILL after ``grace``.

    The leader is waited for (its return code stays available); members it started and
    left behind get the same signal and the same grace time.
    """
    pgid = leader.pid
    deadline = time.monotonic() + grace
    try:
        signal_group(pgid, first)
        with contextlib.suppress(subprocess.TimeoutExpired):
            leader.wait(timeout=grace)
        wait_until_gone(pgid, deadline - time.monotonic())
    finally:  # also when a second Ctrl-C cuts the grace short
        kill_group(pgid)
        leader.wait()


def kill_group(pgid: int, timeout: float = 5.0) -> None:
    """SIGKILL the group; return once none of it runs any more (or after ``timeout``)."""
    if group_members(pgid):
        signal_group(pgid, signal.SIGKILL)
        wait_until_gone(pgid, timeout)


def wait_until_gone(pgid: int, timeout: float) -> None:
    """Wait until no process of the group runs, or until ``timeout`` has passed."""
    deadline = time.monotonic() + timeout
    while group_members(pgid):
        if time.monotonic() >= deadline:
            return
        time.sleep(_POLL_SECONDS)


def describe_exit(code: int | None) -> str:
    """``exit status 1``, or ``killed by SIGKILL``, for a process's return code."""
    if code is not None and code < 0:
        return f"killed by {signal.Signals(-code).name}"
    return f"exit status {code}"


def stop_leftovers(leader: subprocess.Popen[bytes], grace: float) -> None:
    """After ``leader`` exited by itself: stop what it left running in its group."""
    if group_members(leader.pid):
        stop_group(leader, signal.SIGTERM, grace)
