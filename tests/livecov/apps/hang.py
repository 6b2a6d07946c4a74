"""An app factory that never returns, so the server never listens."""

import threading


def create_app():
    threading.Event().wait()
