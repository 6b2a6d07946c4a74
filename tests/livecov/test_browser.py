"""Choosing the Chromium to launch."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from livecov.browser import SYSTEM_CHROMIUMS, find_chromium, launch_args
from livecov.errors import BrowserNotFoundError


@pytest.fixture
def fake_bin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A PATH holding only what the test puts there."""
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("LIVECOV_BROWSER", raising=False)
    return tmp_path


def executable(folder: Path, name: str) -> Path:
    path = folder / name
    path.write_text("#!/bin/sh\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


def test_system_chromium_is_found(fake_bin: Path) -> None:
    path = executable(fake_bin, "chromium")
    assert find_chromium() == str(path)


def test_option_and_environment_win(fake_bin: Path, monkeypatch) -> None:
    executable(fake_bin, "chromium")
    mine = executable(fake_bin, "my-chrome")
    ours = executable(fake_bin, "env-chrome")
    monkeypatch.setenv("LIVECOV_BROWSER", str(ours))
    assert find_chromium() == str(ours)
    assert find_chromium(str(mine)) == str(mine)


def test_named_browser_must_exist(fake_bin: Path) -> None:
    with pytest.raises(BrowserNotFoundError, match="'nope' is not an executable"):
        find_chromium("nope")


def test_playwrights_own_browser_is_used_when_installed(fake_bin: Path) -> None:
    bundled = executable(fake_bin / "..", "bundled-chrome")
    assert find_chromium(bundled=str(bundled)) is None
    assert launch_args(None) == {}


def test_no_browser_at_all_says_how_to_get_one(fake_bin: Path) -> None:
    with pytest.raises(BrowserNotFoundError) as error:
        find_chromium(bundled=os.path.join(fake_bin, "missing"))
    message = str(error.value)
    assert "apt-get install chromium" in message
    assert "playwright install chromium" in message
    assert "LIVECOV_BROWSER" in message


def test_system_chromium_gets_the_quiet_flags() -> None:
    options = launch_args("/usr/bin/chromium")
    # Written out, not read from livecov.browser: a flag deleted there must fail here.
    assert options == {
        "executable_path": "/usr/bin/chromium",
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


def test_the_docs_name_every_chromium_looked_for_and_every_flag_it_gets() -> None:
    """A user reading the docs knows which browser runs, and with which flags
    (``--no-sandbox`` among them)."""
    docs = (Path(__file__).parents[2] / "docs" / "pytest.md").read_text()
    flags = launch_args("/usr/bin/chromium")["args"]

    assert [name for name in SYSTEM_CHROMIUMS if f"`{name}`" not in docs] == []
    assert [flag for flag in flags if flag not in docs] == []
