from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")  # import time
ITEMS: dict[int, str] = {}
app = FastAPI()


@app.post("/items/{item_id}")
def add_item(item_id: int, name: str) -> dict[str, str]:
    ITEMS[item_id] = name
    return {"added": name}


@app.get("/items/{item_id}", response_class=HTMLResponse)
async def show_item(request: Request, item_id: int) -> HTMLResponse:
    name = ITEMS.get(item_id)  # the item view
    return TEMPLATES.TemplateResponse(request, "item.html", {"name": name})


@app.get("/health")
def health() -> dict[str, bool]:
    return {"ok": True}  # only the unit tests ask


@app.get("/about")
def about() -> str:
    return "nobody asks"


def reset() -> None:
    ITEMS.clear()
