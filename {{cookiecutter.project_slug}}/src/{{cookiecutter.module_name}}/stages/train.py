"""The train stage: data/processed -> models/ and reports/lineage.json, plus an MLflow run."""

from __future__ import annotations

import time

import psutil

from ..params import Params
from ..tracking.server import check_before_training


def run(params: Params) -> None:
    # Before the imports of training (seconds): a tracking server that does not answer is one
    # line at once, and nothing changes.
    check_before_training()
    from ..train import train

    meta = train(params)
    print(f"train: {meta.metrics} (MLflow run {meta.run_id}, version {meta.model_version})")
    # The whole stage, from its process's start (imports included), beside the fit and the
    # cross-validation printed above: what a training costs beyond learning.
    print(f"train: the stage took {time.time() - psutil.Process().create_time():.2f} s")
