"""Validation of the answers, shared by the Jinja extension and the pre-generation hook.

cookiecutter.json renders `__validated` last through the `validate_answers` filter below, so a bad answer
stops the bake before anything is written, with one message per problem and no traceback (cookiecutter
prints a ClickException as a plain error). The pre-generation hook runs the same checks again for bakes
that skip the prompts (for example --replay).
"""

from __future__ import annotations

import keyword
import re
import sys
from collections.abc import Mapping
from typing import Any

from jinja2 import Environment
from jinja2.ext import Extension

SUPPORTED_PYTHONS = ("3.10", "3.11", "3.12", "3.13")
LICENSES = ("MIT", "BSD-3-Clause", "Apache-2.0", "none")
SLUG_RE = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
MODULE_RE = re.compile(r"^[a-z][a-z0-9_]*$")
# A deliberately plain check: one @, no spaces, a dot in the domain. RFC 5322 is not the goal;
# catching typos such as "me@localhost" or "me.example.com" is.
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
# An image reference component (OCI distribution spec): lowercase, digits, separators.
IMAGE_NAME_RE = re.compile(r"^[a-z0-9]+([._-][a-z0-9]+)*(/[a-z0-9]+([._-][a-z0-9]+)*)*$")
REGISTRY_RE = re.compile(r"^[a-z0-9.-]+(:[0-9]+)?(/[a-z0-9]+([._-][a-z0-9]+)*)*$")
# DVC remotes the template installs a client for: a local directory, or one of these buckets.
REMOTE_RE = re.compile(r"^(s3|gs|azure)://[a-z0-9][a-z0-9._-]*(/\S*)?$")
TRACKING_RE = re.compile(r"^(sqlite:///.+|https?://\S+|postgresql(\+\w+)?://\S+|databricks.*)$")
# Names that would shadow a module the project or its tools import.
SHADOWED = {
    "api",
    "tests",
    "docs",
    "configs",
    "data",
    "models",
    "reports",
    "experiments",
    "sklearn",
    "pandas",
    "numpy",
    "mlflow",
    "dvc",
    "hydra",
    "omegaconf",
    "fastapi",
    "uvicorn",
    "pydantic",
    "joblib",
    "pytest",
}


def problems(answers: Mapping[str, Any]) -> list[str]:
    """Return one human-readable message per invalid answer (empty when all are valid)."""
    found: list[str] = []
    answers = {key: str(value) for key, value in answers.items()}
    if not answers["project_name"].strip():
        found.append("project_name: must not be empty.")

    slug = answers["project_slug"]
    if not SLUG_RE.match(slug):
        found.append(
            f"project_slug: {slug!r} is not a valid directory/distribution name. Use lowercase letters,"
            " digits and single hyphens, starting with a letter (for example 'iris-classifier')."
        )

    module = answers["module_name"]
    stdlib = getattr(sys, "stdlib_module_names", frozenset())
    if not MODULE_RE.match(module):
        found.append(
            f"module_name: {module!r} is not a valid Python package name. Use lowercase letters, digits"
            " and underscores, starting with a letter (for example 'iris_classifier')."
        )
    elif keyword.iskeyword(module) or keyword.issoftkeyword(module):
        found.append(f"module_name: {module!r} is a Python keyword; choose another name.")
    elif module in stdlib:
        found.append(
            f"module_name: {module!r} shadows the standard library module of the same name; choose another name."
        )
    elif module in SHADOWED:
        found.append(f"module_name: {module!r} clashes with a package or folder the project uses; choose another name.")

    for field in ("project_name", "description", "author_name"):
        if '"""' in answers[field] or "\n" in answers[field]:
            found.append(f'{field}: must be one line without triple quotes (""").')

    email = answers["author_email"]
    if not EMAIL_RE.match(email):
        found.append(f"author_email: {email!r} is not an e-mail address (expected name@domain.tld).")

    if answers["python_version"] not in SUPPORTED_PYTHONS:
        found.append(
            f"python_version: {answers['python_version']!r} is not supported;"
            f" choose one of {', '.join(SUPPORTED_PYTHONS)}."
        )

    if answers["open_source_license"] not in LICENSES:
        found.append(
            f"open_source_license: {answers['open_source_license']!r} is not offered;"
            f" choose one of {', '.join(LICENSES)}."
        )

    if not REGISTRY_RE.match(answers["image_registry"]):
        found.append(
            f"image_registry: {answers['image_registry']!r} is not a registry reference"
            " (expected host[:port][/namespace] in lowercase, for example 'ghcr.io/my-org')."
        )
    if not IMAGE_NAME_RE.match(answers["image_name"]):
        found.append(
            f"image_name: {answers['image_name']!r} is not a valid image name"
            " (lowercase letters, digits and . _ - separators)."
        )

    remote = answers["dvc_remote_url"]
    if not remote.strip() or any(c.isspace() for c in remote):
        found.append("dvc_remote_url: must be a path or URL without spaces.")
    elif "://" in remote and not REMOTE_RE.match(remote):
        found.append(
            f"dvc_remote_url: {remote!r} is not a supported remote; use a local directory or"
            " s3://<bucket>[/path], gs://<bucket>[/path], azure://<container>[/path]."
        )

    if not TRACKING_RE.match(answers["mlflow_tracking_uri"]):
        found.append(
            f"mlflow_tracking_uri: {answers['mlflow_tracking_uri']!r} is not a tracking URI"
            " (expected sqlite:///<file>, http(s)://<server> or postgresql://...)."
        )

    if answers["include_api"] not in ("yes", "no"):
        found.append(f"include_api: {answers['include_api']!r} must be 'yes' or 'no'.")
    return found


def report(found: list[str]) -> str:
    """The one message a person sees for a refused bake."""
    return "the project was not generated:\n" + "\n".join(f"  - {message}" for message in found)


def validate_answers(answers: Mapping[str, Any]) -> str:
    """Jinja filter: return "ok", or stop the bake with every problem in one message."""
    found = problems({key: value for key, value in answers.items() if not key.startswith("_")})
    if found:
        import click  # cookiecutter's CLI prints a ClickException as "Error: <message>" and exits 1

        raise click.ClickException(report(found))
    return "ok"


class ValidateAnswers(Extension):
    """Registers the `validate_answers` filter (listed in cookiecutter.json `_extensions`)."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.filters["validate_answers"] = validate_answers
