"""The data stage: data.source -> data/raw, data/processed (train, test, schema)."""

from __future__ import annotations

from ..data import prepare_data
from ..params import Params


def run(params: Params) -> None:
    prepare_data(params)
