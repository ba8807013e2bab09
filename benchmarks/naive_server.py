"""The naive model server that ``benchmarks/serving.py`` compares the course server with.

What many first deployments do (and what the course's seed ``app.py`` did): load the ``.keras``
file and call ``model.predict`` on every request. ``model.predict`` is built for large datasets:
each call sets up a data pipeline and a prediction loop, which costs tens of milliseconds even for
one example. Same web framework and same request format as the course server, so the benchmark
measures the difference in how the model is called, not in HTTP stacks.

    python benchmarks/naive_server.py --model artifacts/models/mnist_mlp.keras --port 8502
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from helpers.serving.cli import watch_parent


def create_app(model_path: str) -> FastAPI:
    """A FastAPI app answering ``POST /v1/models/{name}:predict`` with ``model.predict``."""
    import keras

    model = keras.models.load_model(model_path)
    app = FastAPI()

    @app.get("/readyz")
    async def ready() -> dict:
        return {"status": "ready"}

    @app.post("/v1/models/{name}:predict")
    async def predict(name: str, request: Request) -> JSONResponse:
        body = await request.json()
        instances = np.asarray(body["instances"], dtype="float32")
        predictions = model.predict(instances, verbose=0)  # the slow part: a whole predict loop per request
        return JSONResponse({"predictions": predictions.tolist()})

    return app


def main(argv: list[str] | None = None) -> int:
    """Serve one ``.keras`` model on ``--host``/``--port`` until interrupted or the parent exits."""
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="a .keras file")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8502)
    arguments = parser.parse_args(argv)
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(arguments.model), host=arguments.host, port=arguments.port, log_level="warning", access_log=False
        )
    )
    watch_parent(server)  # never outlive the benchmark that started this server
    server.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
