"""Hyperparameter search: an Optuna study on the cross-validated score (`make tune`).

tune.py is the command; space.py reads the search space, study.py opens the study, trial.py runs
one trial, runs.py records them in MLflow, recovery.py handles trials of killed processes,
workers.py runs trials in parallel, preset.py writes the best trial as an experiment preset.
"""
