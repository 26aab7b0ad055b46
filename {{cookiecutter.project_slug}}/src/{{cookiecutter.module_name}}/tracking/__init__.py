"""MLflow: what a run logs and registers, sweeps, promotion, dead runs, the server check."""
