"""Build the model from config: preprocessing for each kind of column, then the estimator.

    Pipeline([
        ("preprocess", ColumnTransformer([
            ("numeric", Pipeline(preprocessing.numeric [+ StandardScaler]), <numeric columns>),
            ("categorical", Pipeline(preprocessing.categorical), <categorical columns>),
        ])),
        ("estimator", model.estimator),
    ])

Every step is built with hydra.utils.instantiate from its `_target_`, so a user's own transformer or
estimator (a class in this package or any installed one) plugs in with one config line.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sklearn.base import is_classifier, is_regressor
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from .data import TableSchema
from .params import ModelParams, PreprocessingParams
from .utils.errors import PipelineError


def build(component: Mapping[str, Any], where: str) -> Any:
    """Instantiate one `_target_` config; config mistakes become a PipelineError naming `where`."""
    from hydra.errors import InstantiationException
    from hydra.utils import instantiate

    if "_target_" not in component:
        raise PipelineError(f"{where} needs a _target_ (for example sklearn.svm.SVC).")
    try:
        return instantiate(dict(component))
    except InstantiationException as error:
        # Hydra wraps the real cause (an unknown class, a misspelt argument): show that.
        cause = error.__cause__ or error
        raise PipelineError(f"cannot build {where} ({component['_target_']}): {cause}") from error


def build_estimator(model: ModelParams, task: str) -> Any:
    """model.estimator, checked to be a classifier or regressor as the task needs."""
    estimator = build(model.estimator, "model.estimator")
    wanted = is_classifier if task == "classification" else is_regressor
    if not wanted(estimator):
        other = "regressor" if task == "classification" else "classifier"
        raise PipelineError(
            f"model {model.name!r} ({model.estimator['_target_']}) is not a"
            f" {'classifier' if task == 'classification' else 'regressor'} but the task is"
            f" {task}: choose a {task} model (for example model="
            f"{'random_forest' if task == 'classification' else 'random_forest_regressor'})"
            f" or set data.task. (It looks like a {other}.)"
        )
    return estimator


def takes_sparse(estimator: Any) -> bool:
    """Whether the estimator declares that it accepts sparse input (scikit-learn's input tags)."""
    try:
        return bool(estimator.__sklearn_tags__().input_tags.sparse)
    except AttributeError:  # an estimator without tags: give it the dense matrix every one takes
        return False


def steps(configs: Mapping[str, Mapping[str, Any]], where: str) -> list[tuple[str, Any]]:
    return [(name, build(config, f"{where}.{name}")) for name, config in configs.items()]


def build_preprocessing(
    preprocessing: PreprocessingParams, schema: TableSchema, scale: bool, sparse_input: bool = True
) -> ColumnTransformer:
    """One branch per kind of column present; columns selected by name.

    sparse_input: whether the estimator takes a sparse matrix (its scikit-learn input tags).
    """
    numeric = steps(preprocessing.numeric, "preprocessing.numeric")
    if scale:
        numeric.append(("scale", StandardScaler()))
    categorical = steps(preprocessing.categorical, "preprocessing.categorical")
    branches = []
    for kind, kind_steps, columns in (
        ("numeric", numeric, schema.numeric),
        ("categorical", categorical, schema.categorical),
    ):
        if columns:
            branches.append((kind, Pipeline(kind_steps) if kind_steps else "passthrough", columns))
    # Sparse output where one-hot columns make it mostly zeros (a fraction of the memory and time
    # of a dense matrix on many categories), dense for an estimator that cannot take sparse input.
    return ColumnTransformer(
        branches,
        sparse_threshold=0.3 if sparse_input else 0.0,
        verbose_feature_names_out=False,
    )


def build_model(
    model: ModelParams, preprocessing: PreprocessingParams, schema: TableSchema
) -> Pipeline:
    """The scikit-learn Pipeline the train stage fits."""
    estimator = build_estimator(model, schema.task)
    preprocess = build_preprocessing(
        preprocessing, schema, model.scale, sparse_input=takes_sparse(estimator)
    )
    return Pipeline([("preprocess", preprocess), ("estimator", estimator)])
