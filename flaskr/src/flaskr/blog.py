"""The posts: a paginated index, and create, update and delete for their authors."""

import sqlite3

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue

from .auth import login_required
from .db import get_db

MAX_TITLE_LENGTH = 200
MAX_BODY_LENGTH = 10_000
# SQLite integers are signed 64-bit: no row has a larger id, and binding a larger Python
# int raises OverflowError.
SQLITE_MAX_INT = 2**63 - 1

# Newest first; the id breaks ties between posts created in the same second. The index on
# post(created) serves this order, so a page costs the same however many posts there are.
INDEX_QUERY = (
    "SELECT p.id, title, body, created, author_id, username"
    " FROM post p JOIN user u ON p.author_id = u.id"
    " ORDER BY created DESC, p.id DESC"
    " LIMIT ? OFFSET ?"
)
# Whether there is a post past the first N (every post has an author, so the join above
# drops none): an older page exists when there is one past this page's last post.
POST_AFTER_QUERY = "SELECT EXISTS (SELECT 1 FROM post LIMIT 1 OFFSET ?)"

bp = Blueprint("blog", __name__)


@bp.route("/")
def index() -> ResponseReturnValue:
    page = _page_number()
    per_page = current_app.config["POSTS_PER_PAGE"]
    offset = (page - 1) * per_page
    if offset > SQLITE_MAX_INT:
        abort(404, f"There is no page {page}.")
    db = get_db()
    posts = db.execute(INDEX_QUERY, (per_page, offset)).fetchall()
    if page > 1 and not posts:
        abort(404, f"There is no page {page}.")
    (has_older,) = db.execute(POST_AFTER_QUERY, (offset + per_page,)).fetchone()
    return render_template("blog/index.html", posts=posts, page=page, has_older=has_older)


def _page_number() -> int:
    try:
        page = int(request.args.get("page", "1"))
    except ValueError:
        abort(404, "The page number must be a whole number.")
    if page < 1:
        abort(404, "Pages are numbered from 1.")
    return page


def get_post(id: int) -> sqlite3.Row:
    """Return the post with its author's name; 404 if missing, 403 if not the user's own."""
    if id > SQLITE_MAX_INT:
        abort(404, f"Post id {id} doesn't exist.")
    post: sqlite3.Row | None = (
        get_db()
        .execute(
            "SELECT p.id, title, body, created, author_id, username"
            " FROM post p JOIN user u ON p.author_id = u.id"
            " WHERE p.id = ?",
            (id,),
        )
        .fetchone()
    )
    if post is None:
        abort(404, f"Post id {id} doesn't exist.")
    if post["author_id"] != g.user["id"]:
        abort(403, "You can only change your own posts.")
    return post


def _post_form() -> tuple[str, str]:
    # Browsers send textarea line breaks as CRLF; store plain newlines.
    body = request.form.get("body", "").replace("\r\n", "\n")
    return request.form.get("title", "").strip(), body


def _post_error(title: str, body: str) -> str | None:
    if not title:
        return "Title is required."
    if len(title) > MAX_TITLE_LENGTH:
        return f"Title must be at most {MAX_TITLE_LENGTH} characters."
    if len(body) > MAX_BODY_LENGTH:
        return f"Body must be at most {MAX_BODY_LENGTH} characters."
    return None


# As in auth: GET (and HEAD) shows a form, POST submits it, the router picks by method.
@bp.get("/create")
@login_required
def create() -> ResponseReturnValue:
    return render_template("blog/create.html")


@bp.post("/create")
@login_required
def create_submit() -> ResponseReturnValue:
    title, body = _post_form()
    error = _post_error(title, body)
    if error is None:
        db = get_db()
        db.execute(
            "INSERT INTO post (title, body, author_id) VALUES (?, ?, ?)",
            (title, body, g.user["id"]),
        )
        db.commit()
        return redirect(url_for("blog.index"))
    flash(error, "error")
    return create()


@bp.get("/<int:id>/update")
@login_required
def update(id: int) -> ResponseReturnValue:
    return render_template("blog/update.html", post=get_post(id))


@bp.post("/<int:id>/update")
@login_required
def update_submit(id: int) -> ResponseReturnValue:
    post = get_post(id)
    title, body = _post_form()
    error = _post_error(title, body)
    if error is None:
        db = get_db()
        db.execute("UPDATE post SET title = ?, body = ? WHERE id = ?", (title, body, id))
        db.commit()
        return redirect(url_for("blog.index"))
    flash(error, "error")
    return render_template("blog/update.html", post=post)


@bp.route("/<int:id>/delete", methods=("POST",))
@login_required
def delete(id: int) -> ResponseReturnValue:
    get_post(id)
    db = get_db()
    db.execute("DELETE FROM post WHERE id = ?", (id,))
    db.commit()
    flash("Post deleted.", "success")
    return redirect(url_for("blog.index"))
