"""One router per resource: health (liveness, readiness), metadata, metrics, predict."""
