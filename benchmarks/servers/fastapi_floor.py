"""The floor for any FastAPI app: one route that reads the body and answers a constant, without
middleware of its own, dependencies or validation. Run with the project's FastAPI under uvicorn."""

from fastapi import FastAPI, Request, Response

app = FastAPI()


@app.api_route("/", methods=["GET", "POST"])
async def constant(request: Request) -> Response:
    await request.body()
    return Response(b'{"predictions":["setosa"]}', media_type="application/json")
