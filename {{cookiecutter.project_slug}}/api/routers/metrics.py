"""GET /metrics: the server's Prometheus metrics (api/metrics.py), for a Prometheus scrape."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST

from api.metrics import Metrics

router = APIRouter(tags=["metrics"])


# The answer's media type is documented here rather than by a response class: FastAPI gives the
# route's class media type to every response it documents, and the 401 the API key check answers
# (when API_KEYS is set) is JSON like every error, not text.
@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {
            "description": "The metrics, in Prometheus' text format.",
            "content": {"text/plain": {"schema": {"type": "string"}}},
        }
    },
)
def metrics(request: Request) -> Response:
    """Requests by route and status, their latency, predictions served and the model's name and
    version, in Prometheus' text format (added up over all workers)."""
    # A plain `def`, run in a worker thread: with several workers this reads their files.
    served: Metrics = request.app.state.metrics
    return Response(served.render(), media_type=CONTENT_TYPE_LATEST)
