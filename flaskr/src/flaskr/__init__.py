"""Flaskr, the blog of the Flask tutorial: the application factory.

Configuration is read in this order, each source overriding the ones before it:

1. the defaults in :func:`create_app`;
2. ``config.py`` in the instance folder, if there is one;
3. environment variables prefixed ``FLASKR_``, e.g. ``FLASKR_SECRET_KEY`` or
   ``FLASKR_DATABASE`` (values that parse as JSON are converted, so
   ``FLASKR_POSTS_PER_PAGE=20`` is the integer 20);
4. the ``test_config`` mapping passed to :func:`create_app`.

``FLASKR_INSTANCE_PATH`` (an absolute path) moves the instance folder, which holds the
default database, the optional ``config.py`` and the generated ``secret_key``.

The production switch is ``ENV = "production"`` (``FLASKR_ENV=production``): the app then
refuses to start without a configured ``SECRET_KEY``. See :mod:`flaskr.security` for the
secret key and password hashing rules.
"""

import os
from collections.abc import Mapping
from typing import Any

from flask import Flask
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Create and configure the Flaskr application."""
    app = Flask(
        __name__,
        instance_relative_config=True,
        instance_path=os.environ.get("FLASKR_INSTANCE_PATH") or None,
    )
    os.makedirs(app.instance_path, exist_ok=True)

    from . import auth, blog, db, errors, security

    app.config.from_mapping(
        DATABASE=os.path.join(app.instance_path, "flaskr.sqlite"),
        PASSWORD_HASH_METHOD=security.DEFAULT_PASSWORD_HASH_METHOD,
        POSTS_PER_PAGE=10,
        MAX_CONTENT_LENGTH=1024 * 1024,
        SESSION_COOKIE_SAMESITE="Lax",
    )
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("FLASKR")
    if test_config is not None:
        app.config.update(test_config)
    # After all sources: the tutorial's tests post forms without tokens, so a testing app
    # has CSRF off unless its configuration turns it on explicitly.
    app.config.setdefault("WTF_CSRF_ENABLED", not app.testing)

    security.init_app(app)
    db.init_app(app)
    errors.init_app(app)

    @app.route("/hello")
    def hello() -> str:
        return "Hello, World!"

    # Input limits, for the forms' maxlength attributes.
    app.jinja_env.globals["limits"] = {
        "username": auth.MAX_USERNAME_LENGTH,
        "password": auth.MAX_PASSWORD_LENGTH,
        "title": blog.MAX_TITLE_LENGTH,
        "body": blog.MAX_BODY_LENGTH,
    }
    app.register_blueprint(auth.bp)
    app.register_blueprint(blog.bp)
    app.add_url_rule("/", endpoint="index")

    # After the blueprints, so g.user is loaded before the CSRF check can fail and the
    # error page still shows who is logged in.
    csrf.init_app(app)
    return app
