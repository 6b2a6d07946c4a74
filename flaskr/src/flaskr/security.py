"""Secret key and password hashing rules.

Secret key: a configured ``SECRET_KEY`` (``FLASKR_SECRET_KEY``, or ``SECRET_KEY`` in the
instance ``config.py``) is always used. Without one, a production app (``ENV`` is
``"production"``, i.e. ``FLASKR_ENV=production``) refuses to start; any other app
generates a random key once, keeps it in ``<instance>/secret_key`` (mode 0600) and reuses
it on later starts, so sessions survive restarts.

Password hashing: ``PASSWORD_HASH_METHOD`` is passed to Werkzeug's
``generate_password_hash``. A method weaker than :data:`DEFAULT_PASSWORD_HASH_METHOD`
(see :func:`is_weak_hash_method`) is refused unless ``TESTING`` is true, where a cheap one
such as ``"pbkdf2:sha256:1"`` keeps test suites fast.
"""

import contextlib
import os
import secrets
import tempfile

from flask import Flask, Response

PRODUCTION_ENV = "production"
SECRET_KEY_FILE = "secret_key"  # noqa: S105 (a file name, not a secret)

DEFAULT_PASSWORD_HASH_METHOD = "scrypt"  # noqa: S105 (an algorithm name)
# Werkzeug's scrypt default cost, and OWASP's minimum for PBKDF2-HMAC-SHA256.
MIN_SCRYPT_N = 2**15
MIN_PBKDF2_ITERATIONS = 600_000

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def init_app(app: Flask) -> None:
    """Settle the secret key, check the hash method and add security headers."""
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret_key(app)

    method = app.config["PASSWORD_HASH_METHOD"]
    if is_weak_hash_method(method) and not app.testing:
        raise RuntimeError(
            f"PASSWORD_HASH_METHOD {method!r} is weaker than {DEFAULT_PASSWORD_HASH_METHOD!r}"
            " and is only allowed when TESTING is true."
        )

    app.after_request(_add_security_headers)


def is_weak_hash_method(method: str) -> bool:
    """Whether a Werkzeug hash method is cheaper than the default, or not understood.

    ``scrypt[:n[:r[:p]]]`` is weak when ``n`` is below :data:`MIN_SCRYPT_N`;
    ``pbkdf2[:hash[:iterations]]`` when ``iterations`` is below
    :data:`MIN_PBKDF2_ITERATIONS`. Anything else (``plain``, typos) counts as weak.
    """
    name, *params = method.split(":")
    if name == "scrypt":
        return _work_factor(params, 0, MIN_SCRYPT_N) < MIN_SCRYPT_N
    if name == "pbkdf2":
        return _work_factor(params, 1, MIN_PBKDF2_ITERATIONS) < MIN_PBKDF2_ITERATIONS
    return True


def _work_factor(params: list[str], index: int, default: int) -> int:
    if index >= len(params):
        return default
    try:
        return int(params[index])
    except ValueError:
        return 0


def _instance_secret_key(app: Flask) -> str:
    if app.config.get("ENV") == PRODUCTION_ENV:
        raise RuntimeError(
            "SECRET_KEY is not set, and a production app needs one. Set the"
            " FLASKR_SECRET_KEY environment variable or SECRET_KEY in"
            f" {os.path.join(app.instance_path, 'config.py')}, for example to the output of"
            " `python -c 'import secrets; print(secrets.token_hex())'`."
        )
    path = os.path.join(app.instance_path, SECRET_KEY_FILE)
    if not os.path.exists(path):
        create_secret_key_file(path)
    with open(path, encoding="utf-8") as f:
        key = f.read().strip()
    if not key:
        raise RuntimeError(f"{path} is empty: delete it to have a new key generated.")
    return key


def create_secret_key_file(path: str) -> None:
    """Write a new random key to ``path`` (mode 0600) unless the file already exists."""
    # Write a temporary file, then link it into place: processes starting at once (several
    # server workers) all end up reading the same complete key.
    fd, tmp_path = tempfile.mkstemp(dir=os.path.dirname(path))  # mkstemp uses mode 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(secrets.token_hex(32))
        # If another process was first, everyone uses its key.
        with contextlib.suppress(FileExistsError):
            os.link(tmp_path, path)
    finally:
        os.unlink(tmp_path)


def _add_security_headers(response: Response) -> Response:
    response.headers.update(SECURITY_HEADERS)
    return response
