"""A minimal Flask app, for hooks that need an application context."""

from flask import Flask, current_app


def create_app():
    app = Flask(__name__)
    app.config["SEEDED"] = "no"

    @app.get("/seeded")
    def seeded():
        return current_app.config["SEEDED"]

    return app


def seed():
    current_app.config["SEEDED"] = "yes"
