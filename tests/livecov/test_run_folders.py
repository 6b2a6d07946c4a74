"""A folder whose processes are all gone (a livecov killed by SIGKILL cannot remove its own)
is removed when the next folder is made; every other folder is left alone. In this process,
with real processes: this one, children started and reaped, a zombie. The whole story, with
``livecov`` itself SIGKILLed, is in test_nothing_left_behind.py."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from livecov import run_folders
from livecov.live_server import LiveServer, ServerOptions
from livecov.run_folders import RECORD, make_run_folder, record_processes, sweep_abandoned_folders


@pytest.fixture
def tmp_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The system's temporary folder, as far as livecov can tell: a private one."""
    root = tmp_path / "tmp"
    root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    return root


def a_pid_that_is_gone() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def folder_of(pids: list[int], root: Path, name: str = "livecov-test") -> Path:
    folder = root / name
    folder.mkdir()
    record_processes(folder, pids)
    return folder


def edit_record(folder: Path, **changes: object) -> None:
    record = json.loads((folder / RECORD).read_text())
    (folder / RECORD).write_text(json.dumps({**record, **changes}))


def test_a_new_folder_records_its_maker_and_is_kept_while_it_runs(tmp_root: Path) -> None:
    folder = make_run_folder()
    assert folder.parent == tmp_root
    assert folder.name.startswith("livecov-")
    record = json.loads((folder / RECORD).read_text())
    assert [pid for pid, _ in record["processes"]] == [os.getpid()]
    assert sweep_abandoned_folders() == []
    assert folder.is_dir()


def test_a_folder_whose_processes_are_gone_is_removed_when_the_next_is_made(tmp_root) -> None:
    abandoned = folder_of([a_pid_that_is_gone(), a_pid_that_is_gone()], tmp_root)
    (abandoned / "data").mkdir()
    (abandoned / "data" / ".coverage.server").write_text("left by a killed run")
    new = make_run_folder()
    assert not abandoned.exists()
    assert [p.name for p in tmp_root.iterdir()] == [new.name]


def test_a_folder_is_kept_while_any_of_its_processes_runs(tmp_root: Path) -> None:
    # The run's livecov was killed, but its server still stops (it saves into the folder).
    folder = folder_of([a_pid_that_is_gone(), os.getpid()], tmp_root)
    assert sweep_abandoned_folders() == []
    assert folder.is_dir()


def test_a_reused_pid_does_not_keep_a_folder(tmp_root: Path) -> None:
    folder = folder_of([os.getpid()], tmp_root)
    ((pid, start),) = json.loads((folder / RECORD).read_text())["processes"]
    edit_record(folder, processes=[[pid, start - 1]])  # the pid once named another process
    assert sweep_abandoned_folders() == [folder]


def test_a_pid_now_naming_a_younger_process_does_not_keep_a_folder(tmp_root: Path) -> None:
    # The record holds this process's start time; the pid in it now names a child started
    # since (as if the recorded process had ended and its pid been given to the child).
    folder = folder_of([os.getpid()], tmp_root)
    ((_, start),) = json.loads((folder / RECORD).read_text())["processes"]
    child = subprocess.Popen(["sh", "-c", "read line"], stdin=subprocess.PIPE)
    try:
        edit_record(folder, processes=[[child.pid, start]])
        assert sweep_abandoned_folders() == [folder]
    finally:
        child.stdin.close()
        child.wait(timeout=60)


def test_a_zombie_does_not_keep_a_folder(tmp_root: Path) -> None:
    child = subprocess.Popen(["sh", "-c", "read line"], stdin=subprocess.PIPE)
    try:
        folder = folder_of([child.pid], tmp_root)
        assert sweep_abandoned_folders() == []  # it runs
        child.stdin.close()  # now it ends; waited for, not reaped: a zombie
        os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)
        assert sweep_abandoned_folders() == [folder]
    finally:
        child.stdin.close()
        child.wait(timeout=60)


# Boot ids and namespaces are only ever equal or not: one of each sorting before this
# machine's, and one after.
OTHER_BOOTS = ["00000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-ffffffffffff"]
OTHER_NAMESPACES = ["pid:[1]", "pid:[99999999999]"]


@pytest.mark.parametrize("boot", OTHER_BOOTS)
def test_a_folder_from_before_a_restart_is_removed(tmp_root: Path, boot: str) -> None:
    folder = folder_of([os.getpid()], tmp_root)
    edit_record(folder, boot=boot)
    assert sweep_abandoned_folders() == [folder]


@pytest.mark.parametrize("namespace", OTHER_NAMESPACES)
def test_a_folder_of_another_pid_namespace_is_left_alone(tmp_root: Path, namespace: str) -> None:
    # Another container sharing this /tmp: its pids mean nothing here.
    folder = folder_of([a_pid_that_is_gone()], tmp_root)
    edit_record(folder, pid_namespace=namespace)
    assert sweep_abandoned_folders() == []
    assert folder.is_dir()


UNREADABLE_RECORDS = [None, '{"boot": "', "[]", '{"boot": "x"}']


@pytest.mark.parametrize("record", UNREADABLE_RECORDS)
def test_a_folder_without_a_readable_record_is_left_alone(tmp_root: Path, record) -> None:
    # One being made this very moment.
    folder = tmp_root / "livecov-unknown"
    folder.mkdir()
    if record is not None:
        (folder / RECORD).write_text(record)
    assert sweep_abandoned_folders() == []
    assert folder.is_dir()


@pytest.mark.parametrize(
    "left",
    [{}, {RECORD + ".partial": '{"boot": "'}, {RECORD: "[]"}],
    ids=["empty", "half-written", "unreadable"],
)
def test_a_folder_left_without_a_readable_record_for_an_hour_is_removed(
    tmp_root: Path, left: dict[str, str]
) -> None:
    # Its maker was killed between making it and writing its record (found in a new user's
    # trial: /tmp/livecov-* folders, empty or holding processes.json.partial, never removed).
    folder = tmp_root / "livecov-unknown"
    folder.mkdir()
    for name, text in left.items():
        (folder / name).write_text(text)
    made = time.time() - run_folders.UNRECORDED_GRACE - 60
    os.utime(folder, (made, made))
    assert sweep_abandoned_folders() == [folder]
    assert not folder.exists()


def test_what_is_not_a_folder_of_ours_is_left_alone(tmp_root: Path) -> None:
    elsewhere = folder_of([a_pid_that_is_gone()], tmp_root, "elsewhere")
    (tmp_root / "livecov-link").symlink_to(elsewhere)
    (tmp_root / "livecov-file").write_text("not a folder")
    assert sweep_abandoned_folders() == []
    assert elsewhere.is_dir()
    assert not run_folders._abandoned(tmp_root / "livecov-gone")  # removed meanwhile


@pytest.mark.skipif(os.getuid() != 0, reason="only root can give a folder to another user")
def test_another_users_folder_is_left_alone(tmp_root: Path) -> None:
    folder = folder_of([a_pid_that_is_gone()], tmp_root)
    os.chown(folder, 65534, 65534)
    assert sweep_abandoned_folders() == []
    assert folder.is_dir()


def test_a_server_is_recorded_with_the_process_that_started_it(project, tmp_root: Path) -> None:
    server = LiveServer(ServerOptions(app="branchy:app"))
    try:
        server.start()
        record = json.loads((server.workdir / RECORD).read_text())
        assert [pid for pid, _ in record["processes"]] == [os.getpid(), server.process.pid]
    finally:
        server.cleanup()
    assert list(tmp_root.iterdir()) == []
