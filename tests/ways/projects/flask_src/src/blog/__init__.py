from flask import Flask

from blog import views

GREETING = "Hello"  # import time


def create_app() -> Flask:
    app = Flask(__name__)
    app.register_blueprint(views.bp)
    return app


def reset(app: Flask) -> None:
    views.VISITS.clear()
