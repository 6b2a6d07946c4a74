from flask import Blueprint, render_template

bp = Blueprint("blog", __name__)
VISITS: list[str] = []


@bp.get("/")
def index() -> str:
    VISITS.append("index")
    return render_template("index.html", name=None, visits=len(VISITS))


@bp.get("/hello/<name>")
def hello(name: str) -> str:
    VISITS.append(name)  # the hello view
    return render_template("index.html", name=name, visits=len(VISITS))


@bp.get("/health")
def health() -> str:
    return "ok"  # only the unit tests ask


@bp.get("/about")
def about() -> str:
    return "nobody asks"
