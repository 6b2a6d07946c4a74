"""Each distribution builds and installs on its own: livecov never brings Flask or flaskr."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UV = shutil.which("uv") or str(ROOT / ".tools" / "bin" / "uv")

pytestmark = pytest.mark.skipif(not Path(UV).exists(), reason="uv is needed to build wheels")


def _uv(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COVERAGE_", "VIRTUAL_ENV"))}
    return subprocess.run(
        [UV, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=True
    )


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("dist")
    built = {}
    for package in ("livecov", "flaskr"):
        _uv("build", "--wheel", "--package", package, "--out-dir", str(out / package))
        (built[package],) = (out / package).glob("*.whl")
    return built


def _top_folders(wheel: Path) -> set[str]:
    with zipfile.ZipFile(wheel) as archive:
        return {name.split("/")[0] for name in archive.namelist()}


def test_livecov_wheel_holds_only_livecov(wheels: dict[str, Path]) -> None:
    folders = _top_folders(wheels["livecov"])
    assert "livecov" in folders
    assert {f for f in folders if not f.endswith(".dist-info")} == {"livecov"}
    with zipfile.ZipFile(wheels["livecov"]) as archive:
        names = archive.namelist()
        metadata = archive.read(next(n for n in names if n.endswith("METADATA"))).decode()
    assert "livecov/server/serve.py" in names
    requires = [line for line in metadata.splitlines() if line.startswith("Requires-Dist:")]
    runtime = [line for line in requires if "extra ==" not in line]
    assert len(runtime) == 1
    assert runtime[0].startswith("Requires-Dist: coverage")
    assert not any("flask" in line.lower() for line in requires)


def test_flaskr_wheel_holds_only_flaskr(wheels: dict[str, Path]) -> None:
    folders = {f for f in _top_folders(wheels["flaskr"]) if not f.endswith(".dist-info")}
    assert folders == {"flaskr"}
    with zipfile.ZipFile(wheels["flaskr"]) as archive:
        names = archive.namelist()
    assert "flaskr/templates/base.html" in names
    assert "flaskr/schema.sql" in names


def test_livecov_installs_alone(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    _uv("venv", "--quiet", "--python", sys.executable, str(venv))
    python = venv / "bin" / "python"
    _uv("pip", "install", "--quiet", "--python", str(python), str(ROOT / "livecov"))
    listed = _uv("pip", "list", "--python", str(python)).stdout.lower().split()
    assert "livecov" in listed
    assert "coverage" in listed
    assert not {"flask", "flask-wtf", "flaskr", "werkzeug", "jinja2"} & set(listed)
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("COVERAGE_", "PYTHON"))}
    no_flaskr = subprocess.run(
        [str(python), "-c", "import flaskr"], cwd=tmp_path, env=clean, capture_output=True
    )
    assert no_flaskr.returncode != 0
    # The Jinja plugin ships with livecov and imports Jinja2 only when it meets a template.
    no_jinja = "import sys, livecov.jinja, livecov.cli; assert 'jinja2' not in sys.modules"
    subprocess.run([str(python), "-c", no_jinja], cwd=tmp_path, env=clean, check=True)
    help_text = subprocess.run(
        [str(venv / "bin" / "livecov"), "run", "--help"],
        cwd=tmp_path,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert "usage: livecov run" in help_text


@pytest.mark.parametrize(
    ("extra", "brings"),
    [
        ("werkzeug", "werkzeug"),
        ("waitress", "waitress"),
        ("gunicorn", "gunicorn"),
        ("uvicorn", "uvicorn uvicorn-worker gunicorn"),  # gunicorn's uvicorn workers too
    ],
)
def test_each_extra_brings_its_server(tmp_path: Path, extra: str, brings: str) -> None:
    venv = tmp_path / "venv"
    _uv("venv", "--quiet", "--python", sys.executable, str(venv))
    python = str(venv / "bin" / "python")
    _uv("pip", "install", "--quiet", "--python", python, f"{ROOT / 'livecov'}[{extra}]")
    listed = _uv("pip", "list", "--python", python).stdout.lower().split()
    for name in brings.split():
        assert name in listed
    assert "flask" not in listed
