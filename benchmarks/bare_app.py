"""Reference for the serving benchmark: a bare FastAPI endpoint that accepts the same JSON
body (pydantic-validated) and answers a constant list. The service's overhead is measured
against this, in the same run."""

from __future__ import annotations

import os

import uvicorn
from fastapi import FastAPI
from pydantic import BaseModel

app = FastAPI()
CONSTANT = [0.0] * 12


class Body(BaseModel):
    model: str
    horizon: int = 1
    history: list[float] | None = None


@app.post("/forecast")
async def forecast(body: Body) -> dict:
    return {"forecast": CONSTANT}


@app.get("/ready")
async def ready() -> dict:
    return {"ready": True}


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(os.environ["PORT"]), log_level="warning", access_log=False)
