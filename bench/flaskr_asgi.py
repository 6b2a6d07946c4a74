"""flaskr as an ASGI app, for figure 3's uvicorn rows: the same index page, through a2wsgi.

flaskr is a WSGI app; uvicorn serves ASGI only. a2wsgi runs the WSGI app in its thread
pool, so the page, its queries and its templates are exactly those of the other rows.
The database is created here: livecov's set-up hooks get the app, and flaskr's
``init_db`` needs Flask's application context, which the wrapper does not have.
"""

from a2wsgi import WSGIMiddleware

import flaskr
from flaskr.db import init_db


def create_app() -> WSGIMiddleware:
    app = flaskr.create_app()
    with app.app_context():
        init_db()
    return WSGIMiddleware(app)
