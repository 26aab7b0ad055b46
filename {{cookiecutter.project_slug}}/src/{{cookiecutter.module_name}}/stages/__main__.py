"""`python -m {{ cookiecutter.module_name }}.stages <stage>`: run one DVC stage (see __init__.py)."""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from pathlib import Path

from ..config import PARAMS_FILE, load_params
from ..utils.cli import command_parser
from ..utils.errors import exit_on_error

STAGES = ("config", "data", "train", "evaluate")


@exit_on_error
def main(argv: Sequence[str] | None = None) -> None:
    parser = command_parser("stages", __doc__)
    parser.add_argument("stage", choices=STAGES)
    parser.add_argument("--params", type=Path, default=PARAMS_FILE, help="composed parameters file")
    args = parser.parse_args(argv)
    stage = importlib.import_module(f"{__package__}.{args.stage}")
    if args.stage == "config":
        stage.run(args.params)
    else:
        stage.run(load_params(args.params))


if __name__ == "__main__":
    main()
