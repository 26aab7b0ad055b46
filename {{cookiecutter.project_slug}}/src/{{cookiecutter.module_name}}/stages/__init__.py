"""The DVC stages (see dvc.yaml): one module per stage, each reading params.yaml through params.py.

python -m {{ cookiecutter.module_name }}.stages config     # configs/ -> params.yaml
python -m {{ cookiecutter.module_name }}.stages data       # data.source -> data/raw, data/processed
python -m {{ cookiecutter.module_name }}.stages train      # data/processed -> models/ (+ an MLflow run)
python -m {{ cookiecutter.module_name }}.stages evaluate   # models/ + test data -> reports/

One module per stage, imported only when that stage runs, so each stage runs exactly the code its
dvc.yaml entry depends on (stages/code_deps.py derives those lists from the imports).

python -m {{ cookiecutter.module_name }}.stages.repro      # make repro: compose, then dvc repro, under one lock
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

# Set by `make repro` (repro.py) for the stages DVC runs: the sha256 of the params.yaml it composed
# just before DVC started.
COMPOSED_ENV = "PIPELINE_PARAMS_COMPOSED"


def composed_by_make_repro(path: Path) -> bool:
    """Whether path holds what `make repro` composed for this run (the config stage then has
    nothing to do: composing again takes a process half a second for the same bytes)."""
    expected = os.environ.get(COMPOSED_ENV)
    if not expected or not path.is_file():
        return False
    return hashlib.sha256(path.read_bytes()).hexdigest() == expected
