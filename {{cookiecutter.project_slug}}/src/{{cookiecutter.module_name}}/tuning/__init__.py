"""Hyperparameter search: an Optuna study on the cross-validated score (`make tune`)."""
