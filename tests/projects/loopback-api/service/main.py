"""A small inventory API: items in memory, no database."""

from fastapi import FastAPI, HTTPException

app = FastAPI(title="inventory")
ITEMS: dict[str, int] = {"bolts": 120, "nuts": 80}


@app.get("/items")
def list_items() -> dict[str, int]:
    return ITEMS


@app.get("/items/{name}")
def get_item(name: str) -> dict[str, int]:
    if name not in ITEMS:
        raise HTTPException(status_code=404, detail=f"no item {name}")
    return {name: ITEMS[name]}
