"""HTTP API serving the trained model: `python -m api` (or `make serve`) runs it with uvicorn.

Kept empty on purpose: the container's health check imports this package and must stay fast.
"""
