"""Point an alias (default `champion`) of the registered model at one version.

python -m {{ cookiecutter.module_name }}.tracking.promote 3          # or: make promote VERSION=3
"""

from __future__ import annotations

from collections.abc import Sequence

from ..config import PARAMS_FILE, load_params
from ..utils.cli import command_parser
from ..utils.errors import PipelineError, exit_on_error


def promote(name: str, version: str, alias: str = "champion") -> None:
    """Set alias on version of the registered model name; PipelineError when it does not exist."""
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    from .training_run import use_tracking_store

    use_tracking_store()
    client = MlflowClient()
    try:
        client.get_model_version(name, version)
        client.set_registered_model_alias(name, alias, version)
    except MlflowException as error:
        raise PipelineError(
            f"model {name!r} has no version {version!r} in the registry"
            f" ({error.message.splitlines()[0]})."
            " List versions with `make mlflow-ui`."
        ) from error


@exit_on_error
def main(argv: Sequence[str] | None = None) -> None:
    parser = command_parser("tracking.promote", __doc__)
    parser.add_argument("version", help="registered model version, for example 3")
    parser.add_argument("--alias", default="champion")
    parser.add_argument("--name", help="registered model (default: mlflow.registered_model)")
    args = parser.parse_args(argv)
    if not args.version.isdigit():
        raise PipelineError(f"VERSION must be a version number such as 3, not {args.version!r}.")
    name = args.name or load_params(PARAMS_FILE).mlflow.registered_model
    if not name:
        raise PipelineError(
            "no registered model to promote: training registers none (mlflow.registered_model is"
            " unset in configs/config.yaml); pass --name NAME."
        )
    promote(name, args.version, args.alias)
    print(f"promote: {name} version {args.version} is now @{args.alias}")


if __name__ == "__main__":
    main()
