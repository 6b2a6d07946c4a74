"""The factory: configuration sources and their order, the secret key, the password hash
policy (the Flask tutorial's own tests at the end)."""

import os
import stat

import pytest

from flaskr import create_app
from flaskr.security import SECRET_KEY_FILE, create_secret_key_file, is_weak_hash_method


def test_defaults(instance_dir):
    app = create_app()

    assert not app.testing
    assert app.instance_path == str(instance_dir)
    assert app.config["DATABASE"] == os.path.join(str(instance_dir), "flaskr.sqlite")
    assert app.config["POSTS_PER_PAGE"] == 10
    assert app.config["MAX_CONTENT_LENGTH"] == 1024 * 1024
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["PASSWORD_HASH_METHOD"] == "scrypt"
    assert app.config["WTF_CSRF_ENABLED"] is True


def test_instance_folder_is_created(instance_dir):
    assert not instance_dir.exists()
    create_app()
    assert instance_dir.is_dir()


def test_instance_config_overrides_defaults(instance_dir):
    instance_dir.mkdir()
    (instance_dir / "config.py").write_text("POSTS_PER_PAGE = 3\nSECRET_KEY = 'from-file'\n")

    app = create_app()

    assert app.config["POSTS_PER_PAGE"] == 3
    assert app.config["SECRET_KEY"] == "from-file"


def test_environment_overrides_instance_config(instance_dir, monkeypatch):
    instance_dir.mkdir()
    (instance_dir / "config.py").write_text("POSTS_PER_PAGE = 3\n")
    monkeypatch.setenv("FLASKR_POSTS_PER_PAGE", "5")
    monkeypatch.setenv("FLASKR_DATABASE", "/srv/flaskr/blog.sqlite")

    app = create_app()

    assert app.config["POSTS_PER_PAGE"] == 5
    assert app.config["DATABASE"] == "/srv/flaskr/blog.sqlite"


def test_test_config_overrides_everything(instance_dir, monkeypatch):
    instance_dir.mkdir()
    (instance_dir / "config.py").write_text("POSTS_PER_PAGE = 3\n")
    monkeypatch.setenv("FLASKR_POSTS_PER_PAGE", "5")

    app = create_app({"POSTS_PER_PAGE": 7})

    assert app.config["POSTS_PER_PAGE"] == 7


@pytest.mark.parametrize(
    ("config", "enabled"),
    [
        ({}, True),
        ({"TESTING": True}, False),
        ({"TESTING": True, "WTF_CSRF_ENABLED": True}, True),
        ({"WTF_CSRF_ENABLED": False}, False),
    ],
)
def test_csrf_follows_testing_unless_set(instance_dir, config, enabled):
    assert create_app(config).config["WTF_CSRF_ENABLED"] is enabled


def test_testing_from_environment_turns_csrf_off(instance_dir, monkeypatch):
    monkeypatch.setenv("FLASKR_TESTING", "true")
    app = create_app()
    assert app.testing
    assert app.config["WTF_CSRF_ENABLED"] is False


# Secret key ------------------------------------------------------------------------------


def test_secret_key_generated_once_and_kept(instance_dir):
    key = create_app().config["SECRET_KEY"]

    key_file = instance_dir / SECRET_KEY_FILE
    assert key_file.read_text() == key
    assert len(key) == 64
    int(key, 16)  # hex
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    # Later starts reuse it, so sessions survive a restart.
    assert create_app().config["SECRET_KEY"] == key
    assert key_file.read_text() == key
    # Nothing else was left in the instance folder.
    assert sorted(p.name for p in instance_dir.iterdir()) == [SECRET_KEY_FILE]


def test_secret_keys_differ_between_instances(tmp_path, monkeypatch):
    keys = set()
    for name in ("one", "two"):
        monkeypatch.setenv("FLASKR_INSTANCE_PATH", str(tmp_path / name))
        keys.add(create_app().config["SECRET_KEY"])
    assert len(keys) == 2


def test_configured_secret_key_is_used_and_nothing_written(instance_dir, monkeypatch):
    monkeypatch.setenv("FLASKR_SECRET_KEY", "from-the-environment")

    app = create_app()

    assert app.config["SECRET_KEY"] == "from-the-environment"
    assert not (instance_dir / SECRET_KEY_FILE).exists()


def test_production_refuses_to_start_without_secret_key(instance_dir, monkeypatch):
    monkeypatch.setenv("FLASKR_ENV", "production")

    with pytest.raises(RuntimeError, match="SECRET_KEY is not set") as e:
        create_app()

    assert "FLASKR_SECRET_KEY" in str(e.value)
    assert os.path.join(str(instance_dir), "config.py") in str(e.value)
    assert not (instance_dir / SECRET_KEY_FILE).exists()


def test_production_switch_in_config(instance_dir):
    with pytest.raises(RuntimeError, match="SECRET_KEY is not set"):
        create_app({"ENV": "production"})


def test_production_with_secret_key_starts(instance_dir, monkeypatch):
    monkeypatch.setenv("FLASKR_ENV", "production")
    monkeypatch.setenv("FLASKR_SECRET_KEY", "a-real-secret")

    app = create_app()

    assert app.config["SECRET_KEY"] == "a-real-secret"
    assert not (instance_dir / SECRET_KEY_FILE).exists()


def test_empty_secret_key_file_is_an_error(instance_dir):
    instance_dir.mkdir()
    (instance_dir / SECRET_KEY_FILE).write_text("\n")

    with pytest.raises(RuntimeError, match="is empty: delete it"):
        create_app()


def test_secret_key_file_is_not_replaced(tmp_path):
    # Two processes starting at once: the second one keeps the first one's key.
    path = tmp_path / SECRET_KEY_FILE
    create_secret_key_file(str(path))
    first = path.read_text()

    create_secret_key_file(str(path))

    assert path.read_text() == first
    assert [p.name for p in tmp_path.iterdir()] == [SECRET_KEY_FILE]


# Password hash method --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "weak"),
    [
        ("scrypt", False),
        ("scrypt:32768:8:1", False),
        ("scrypt:65536:8:1", False),
        ("scrypt:16384:8:1", True),
        ("pbkdf2", False),
        ("pbkdf2:sha256", False),
        ("pbkdf2:sha256:600000", False),
        ("pbkdf2:sha256:599999", True),
        ("pbkdf2:sha256:50000", True),
        ("pbkdf2:sha256:1", True),
        ("pbkdf2:sha256:many", True),
        ("plain", True),
        ("", True),
        ("md5", True),
    ],
)
def test_is_weak_hash_method(method, weak):
    assert is_weak_hash_method(method) is weak


def test_weak_hash_method_refused_without_testing(instance_dir):
    with pytest.raises(RuntimeError, match="only allowed when TESTING is true"):
        create_app({"PASSWORD_HASH_METHOD": "pbkdf2:sha256:1"})


def test_weak_hash_method_from_environment_refused(instance_dir, monkeypatch):
    monkeypatch.setenv("FLASKR_PASSWORD_HASH_METHOD", "pbkdf2:sha256:1")
    with pytest.raises(RuntimeError, match="'pbkdf2:sha256:1' is weaker than 'scrypt'"):
        create_app()


def test_weak_hash_method_allowed_when_testing(instance_dir):
    app = create_app({"TESTING": True, "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1"})
    assert app.config["PASSWORD_HASH_METHOD"] == "pbkdf2:sha256:1"


def test_strong_hash_method_allowed(instance_dir):
    app = create_app({"PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000000"})
    assert app.config["PASSWORD_HASH_METHOD"] == "pbkdf2:sha256:1000000"


# The Flask tutorial's tests of the factory, as it wrote them. ----------------------------


def test_config():
    assert not create_app().testing
    assert create_app({"TESTING": True}).testing


def test_hello(client):
    response = client.get("/hello")
    assert response.data == b"Hello, World!"


@pytest.mark.parametrize("method", ["sha256", "scrypt2", "typo", "zz:1", "Scrypt", "PBKDF2"])
def test_unknown_hash_methods_sorting_anywhere_are_weak(method):
    # Kills `name == "scrypt"` -> `name >= "scrypt"` (and `<=`, `>`, `<`...) in
    # is_weak_hash_method: test_config's unknown names all sort before "scrypt".
    assert is_weak_hash_method(method) is True
