"""The train stage: data/processed -> models/ and reports/lineage.json, plus an MLflow run."""

from __future__ import annotations

from ..params import Params
from ..train import train


def run(params: Params) -> None:
    meta = train(params)
    print(f"train: {meta.metrics} (MLflow run {meta.run_id}, version {meta.model_version})")
