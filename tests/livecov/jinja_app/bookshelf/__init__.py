"""Bookshelf: a small Flask app written for livecov.jinja's tests (not flaskr)."""

from flask import Blueprint, Flask, abort, render_template, request

BOOKS = {
    1: {"id": 1, "title": "Dune", "rating": 5, "out_of_print": False, "copies": 3},
    2: {"id": 2, "title": "Solaris", "rating": 4, "out_of_print": False, "copies": 1},
}

shelf = Blueprint("shelf", __name__)


@shelf.route("/")
def books() -> str:
    listed = [] if request.args.get("empty") else list(BOOKS.values())
    return render_template("books.html", books=listed, reader=request.args.get("reader"))


@shelf.route("/book/<int:book_id>")
def book(book_id: int) -> str:
    if book_id not in BOOKS:
        abort(404)
    return render_template("book.html", book=BOOKS[book_id], reader=request.args.get("reader"))


def create_app() -> Flask:
    app = Flask(__name__)
    app.register_blueprint(shelf)
    return app
