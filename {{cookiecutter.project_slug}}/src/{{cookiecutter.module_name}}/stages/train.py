"""The train stage: data/processed -> models/ and reports/lineage.json, plus an MLflow run."""

from __future__ import annotations

from ..params import Params
from ..tracking.server import check_before_training


def run(params: Params) -> None:
    # Before the imports of training (seconds): a tracking server that does not answer is one
    # line at once, and nothing changes.
    check_before_training()
    from ..train import train

    meta = train(params)
    print(f"train: {meta.metrics} (MLflow run {meta.run_id}, version {meta.model_version})")
