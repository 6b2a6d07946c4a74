"""Error pages that fit the site, for the errors a visitor can run into."""

from typing import cast

from flask import Flask, render_template
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

ERROR_CODES = (400, 403, 404, 405, 413, 500)


def render_error(error: HTTPException) -> ResponseReturnValue:
    # Keep the exception's own headers, e.g. Allow on a 405.
    status = cast(int, error.code)  # registered for ERROR_CODES only: never None
    return render_template("error.html", error=error), status, error.get_headers()


def init_app(app: Flask) -> None:
    for code in ERROR_CODES:
        app.register_error_handler(code, render_error)
