"""The config stage: compose configs/ into params.yaml (inside `dvc exp run`, DVC does it)."""

from __future__ import annotations

import os
from pathlib import Path

from ..config import dvc_yaml_settings, load_params, read_params, write_params
from ..params import is_url
from ..utils.errors import PipelineError


def run(path: Path) -> None:
    """Compose configs/ into path; stop when DVC has resolved dvc.yaml with older values."""
    before = dvc_yaml_settings(read_params(path)) if path.is_file() else None
    if not write_params(path):
        params = load_params(path)  # what `dvc exp run -S` set, checked like any composition
        # A missing file stops the experiment here, before DVC deletes the data stage's outputs.
        check_source(params.data.source)
        print(f"config: inside `dvc exp run`, which already composed {path}: left as it is")
        return
    print(f"config: composed configs/ into {path}")
    settings = dvc_yaml_settings(read_params(path))
    if not os.environ.get("DVC_STAGE"):  # `make repro`: before DVC reads dvc.yaml
        check_source(str(settings.get("data.source", "")))
    changed = before is not None and settings != before
    if changed and os.environ.get("DVC_STAGE"):
        # dvc.yaml was read with the old paths / data.source: the next stages would use stale ones.
        raise PipelineError(
            "paths or data.source changed, and DVC read dvc.yaml before this stage updated"
            f" {path}: run the pipeline again (`make repro` composes the configs first and"
            " avoids this)."
        )


def check_source(source: str) -> None:
    """A local data.source must exist: say so here, not in DVC's words about a dependency."""
    if source and not is_url(source) and not Path(source).is_file():
        if Path(f"{source}.dvc").is_file():  # tracked by `dvc add`, not fetched yet
            raise PipelineError(
                f"data.source: {source} is not here, but {source}.dvc tracks it: fetch it with"
                f" `dvc pull {source}.dvc` (or `make pull-data`)."
            )
        raise PipelineError(
            f"data.source: {source} does not exist (a path relative to the project, or an"
            " http(s) URL; set it in configs/data/)."
        )
