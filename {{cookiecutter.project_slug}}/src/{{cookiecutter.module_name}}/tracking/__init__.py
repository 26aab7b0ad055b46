"""MLflow: what a training run logs and registers, sweeps, promotion, runs of dead processes,
and whether the tracking server answers."""
