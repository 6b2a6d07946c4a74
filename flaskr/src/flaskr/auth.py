"""Registration, login and logout, and the ``login_required`` decorator.

Usernames are stripped of surrounding whitespace; passwords are taken as typed.
"""

import functools
from collections.abc import Callable

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from werkzeug.security import check_password_hash, generate_password_hash

from .db import get_db

MAX_USERNAME_LENGTH = 50
MAX_PASSWORD_LENGTH = 1024

bp = Blueprint("auth", __name__, url_prefix="/auth")

View = Callable[..., ResponseReturnValue]


def login_required(view: View) -> View:
    """Redirect anonymous users to the login page instead of running ``view``."""

    @functools.wraps(view)
    def wrapped_view(**kwargs: object) -> ResponseReturnValue:
        if g.user is None:
            return redirect(url_for("auth.login"))
        return view(**kwargs)

    return wrapped_view


@bp.before_app_request
def load_logged_in_user() -> None:
    """Put the logged-in user's row, or None, in ``g.user``."""
    user_id = session.get("user_id")
    if user_id is None:
        g.user = None
    else:
        g.user = get_db().execute("SELECT * FROM user WHERE id = ?", (user_id,)).fetchone()


def _credentials() -> tuple[str, str]:
    return request.form.get("username", "").strip(), request.form.get("password", "")


def _registration_error(username: str, password: str) -> str | None:
    if not username:
        return "Username is required."
    if len(username) > MAX_USERNAME_LENGTH:
        return f"Username must be at most {MAX_USERNAME_LENGTH} characters."
    if not password:
        return "Password is required."
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"Password must be at most {MAX_PASSWORD_LENGTH} characters."
    return None


# Each form's URL has two views: GET (and HEAD) shows the form, POST submits it. The router
# picks the view by method, and answers 405 with an Allow header for any other method.
@bp.get("/register")
def register() -> ResponseReturnValue:
    return render_template("auth/register.html")


@bp.post("/register")
def register_submit() -> ResponseReturnValue:
    username, password = _credentials()
    error = _registration_error(username, password)
    if error is None:
        db = get_db()
        password_hash = generate_password_hash(
            password, method=current_app.config["PASSWORD_HASH_METHOD"]
        )
        try:
            db.execute(
                "INSERT INTO user (username, password) VALUES (?, ?)",
                (username, password_hash),
            )
            db.commit()
        except db.IntegrityError:
            error = f"User {username} is already registered."
        else:
            flash("Registration complete. Please log in.", "success")
            return redirect(url_for("auth.login"))
    flash(error, "error")
    return register()


@bp.get("/login")
def login() -> ResponseReturnValue:
    return render_template("auth/login.html")


@bp.post("/login")
def login_submit() -> ResponseReturnValue:
    username, password = _credentials()
    user = get_db().execute("SELECT * FROM user WHERE username = ?", (username,)).fetchone()
    if user is None:
        error = "Incorrect username."
    elif not check_password_hash(user["password"], password):
        error = "Incorrect password."
    else:
        session.clear()
        session["user_id"] = user["id"]
        return redirect(url_for("index"))
    flash(error, "error")
    return login()


@bp.route("/logout")
def logout() -> ResponseReturnValue:
    session.clear()
    return redirect(url_for("index"))
