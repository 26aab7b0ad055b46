"""`python -m {{ cookiecutter.module_name }}.stages <stage>`: run one DVC stage (see __init__.py)."""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from pathlib import Path

from ..utils.cli import command_parser
from ..utils.errors import exit_on_error
from . import composed_by_make_repro

STAGES = ("config", "data", "train", "evaluate")


@exit_on_error
def main(argv: Sequence[str] | None = None) -> None:
    parser = command_parser("stages", __doc__)
    parser.add_argument("stage", choices=STAGES)
    parser.add_argument(
        "--params", type=Path, default=None, help="composed parameters file (params.yaml)"
    )
    args = parser.parse_args(argv)
    # Before the configuration's imports (Hydra, OmegaConf, pydantic): nothing to compose.
    if args.stage == "config" and composed_by_make_repro(args.params or Path("params.yaml")):
        print("config: params.yaml was composed by `make repro` before DVC started: left as it is")
        return
    from ..config import PARAMS_FILE, load_params

    params_file = args.params or PARAMS_FILE
    stage = importlib.import_module(f"{__package__}.{args.stage}")
    if args.stage == "config":
        stage.run(params_file)
    else:
        stage.run(load_params(params_file))


if __name__ == "__main__":
    main()
