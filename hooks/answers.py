"""Validation of the answers, shared by the Jinja extension and the pre-generation hook.

cookiecutter.json renders `__validated` last through the `validate_answers` filter below, so a bad answer
stops the bake before anything is written, with one message per problem and no traceback (cookiecutter
prints a ClickException as a plain error). The pre-generation hook runs the same checks again for bakes
that skip the prompts (for example --replay).

The same extension keeps answers verbatim while cookiecutter renders them (keep_answers_verbatim), so that an
answer is only ever text: Jinja syntax in it is refused, never run. Which names a module may not take comes
partly from import_names.json, the import names of every package in the generated project's lock files.
"""

from __future__ import annotations

import json
import keyword
import re
import sys
import unicodedata
from collections.abc import Callable, Mapping, MutableMapping
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, Template, nodes
from jinja2.ext import Extension

SUPPORTED_PYTHONS = ("3.10", "3.11", "3.12", "3.13")
LICENSES = ("MIT", "BSD-3-Clause", "Apache-2.0", "none")
# Every pattern is used with fullmatch: "$" would also accept a trailing newline.
SLUG_RE = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")
MODULE_RE = re.compile(r"[a-z][a-z0-9_]*")
# Directory names and import names end up in paths: long ones fail with "File name too long" on some systems.
MAX_NAME_LENGTH = 64
# A deliberately plain check: one @, a dot in the domain, and only characters that survive a shell line, YAML,
# TOML, package metadata and git config unquoted (letters, digits, . _ % + -). RFC 5322 is not the goal;
# catching typos such as "me@localhost" or "me.example.com", and quotes that break `make init`, is.
EMAIL_RE = re.compile(r"[\w.%+-]+@[\w-]+(\.[\w-]+)*\.[^\W\d_]{2,}")
MAX_EMAIL_LENGTH = 254  # RFC 5321
# An image reference component (OCI distribution spec): lowercase, digits, separators.
IMAGE_NAME_RE = re.compile(r"[a-z0-9]+([._-][a-z0-9]+)*(/[a-z0-9]+([._-][a-z0-9]+)*)*")
REGISTRY_RE = re.compile(r"[a-z0-9.-]+(:[0-9]+)?(/[a-z0-9]+([._-][a-z0-9]+)*)*")
MAX_IMAGE_REFERENCE_LENGTH = 255  # registry/name, as docker and the distribution reference grammar allow
# DVC remotes the template installs a client for: a local directory, or one of these buckets.
REMOTE_RE = re.compile(r"(s3|gs|azure)://[a-z0-9][a-z0-9._-]*(/\S*)?")
# .dvc/config is an INI file read by configobj: "," splits the value into a list, "#" and ";" start comments,
# quotes are taken as quoting.
REMOTE_FORBIDDEN = ",#;\"'"
TRACKING_RE = re.compile(r"sqlite:///.+|https?://\S+|postgresql(\+\w+)?://\S+|databricks.*")
# Jinja's delimiters: cookiecutter renders every answer as a template, so none may hold them.
JINJA_DELIMITERS = ("{{", "}}", "{%", "%}", "{#", "#}")
# Line breaks and control characters break the Makefile, YAML, TOML and .env lines the answers are written to;
# surrogates are bytes of the command line that were not UTF-8.
UNPRINTABLE_CATEGORIES = {"Cc", "Cs", "Zl", "Zp"}
# The generated project's own top-level folders, and modules Python itself imports by name.
PROJECT_NAMES = {
    "api": "the project's api/ folder",
    "tests": "the project's tests/ folder",
    "docs": "the project's docs/ folder",
    "configs": "the project's configs/ folder",
    "data": "the project's data/ folder",
    "models": "the project's models/ folder",
    "reports": "the project's reports/ folder",
    "experiments": "the project's experiments/ folder",
    "test": "Python's own test package",
    "conftest": "pytest's conftest modules",
    "sitecustomize": "a module Python imports at startup",
    "usercustomize": "a module Python imports at startup",
}
# Written by `make import-names` (hooks/refresh_import_names.py) from the generated project's lock files.
IMPORT_NAMES_FILE = Path(__file__).with_name("import_names.json")


@cache
def dependency_imports() -> dict[str, str]:
    """Top-level import name -> the locked distributions that install it (for example yaml -> PyYAML)."""
    data = json.loads(IMPORT_NAMES_FILE.read_text(encoding="utf-8"))
    owners: dict[str, list[str]] = {}
    for dist in data["distributions"].values():
        for name in dist["imports"]:
            owners.setdefault(name, []).append(dist["name"])
    return {name: ", ".join(sorted(dists)[:3]) + (", ..." if len(dists) > 3 else "") for name, dists in owners.items()}


def check_project_name(name: str) -> str | None:
    if not name.strip():
        return "project_name: must not be empty."
    return no_triple_quotes("project_name", name)


def no_triple_quotes(field: str, value: str) -> str | None:
    """Free text ends up inside Python docstrings."""
    if '"""' in value:
        return f'{field}: must be one line without triple quotes (""").'
    return None


def check_slug(slug: str) -> str | None:
    if not SLUG_RE.fullmatch(slug):
        return (
            f"project_slug: {slug!r} is not a valid directory/distribution name. Use lowercase letters,"
            " digits and single hyphens, starting with a letter (for example 'iris-classifier')."
        )
    if len(slug) > MAX_NAME_LENGTH:
        return f"project_slug: {slug[:24]!r}... is {len(slug)} characters long; use at most {MAX_NAME_LENGTH}."
    return None


def check_module(module: str) -> str | None:
    if not MODULE_RE.fullmatch(module):
        return (
            f"module_name: {module!r} is not a valid Python package name. Use lowercase letters, digits"
            " and underscores, starting with a letter (for example 'iris_classifier')."
        )
    if len(module) > MAX_NAME_LENGTH:
        return f"module_name: {module[:24]!r}... is {len(module)} characters long; use at most {MAX_NAME_LENGTH}."
    if keyword.iskeyword(module) or keyword.issoftkeyword(module):
        return f"module_name: {module!r} is a Python keyword; choose another name."
    if module in getattr(sys, "stdlib_module_names", frozenset()):
        return f"module_name: {module!r} shadows the standard library module of the same name; choose another name."
    used_by = PROJECT_NAMES.get(module) or dependency_imports().get(module)
    if used_by:
        return (
            f"module_name: {module!r} clashes with a package or folder the project uses ({used_by});"
            " choose another name."
        )
    return None


def check_email(email: str) -> str | None:
    if not EMAIL_RE.fullmatch(email) or len(email) > MAX_EMAIL_LENGTH:
        return (
            f"author_email: {email!r} is not an e-mail address (expected name@domain.tld: letters, digits"
            f" and . _ % + - only, at most {MAX_EMAIL_LENGTH} characters)."
        )
    return None


def check_python(version: str) -> str | None:
    if version not in SUPPORTED_PYTHONS:
        return f"python_version: {version!r} is not supported; choose one of {', '.join(SUPPORTED_PYTHONS)}."
    return None


def check_license(license_id: str) -> str | None:
    if license_id not in LICENSES:
        return f"open_source_license: {license_id!r} is not offered; choose one of {', '.join(LICENSES)}."
    return None


def check_registry(registry: str) -> str | None:
    if not REGISTRY_RE.fullmatch(registry):
        return (
            f"image_registry: {registry!r} is not a registry reference"
            " (expected host[:port][/namespace] in lowercase, for example 'ghcr.io/my-org')."
        )
    return None


def check_image_name(name: str) -> str | None:
    if not IMAGE_NAME_RE.fullmatch(name):
        return f"image_name: {name!r} is not a valid image name (lowercase letters, digits and . _ - separators)."
    return None


def check_remote(remote: str) -> str | None:
    if not remote.strip() or any(c.isspace() for c in remote):
        return "dvc_remote_url: must be a path or URL without spaces."
    forbidden = sorted({c for c in remote if c in REMOTE_FORBIDDEN})
    if forbidden:
        shown = " ".join(repr(c) for c in forbidden)
        return (
            f"dvc_remote_url: {remote!r} contains {shown}, which DVC's config file (.dvc/config) cannot hold;"
            " use a path or URL without , # ; or quotes."
        )
    if "://" in remote and not REMOTE_RE.fullmatch(remote):
        return (
            f"dvc_remote_url: {remote!r} is not a supported remote; use a local directory or"
            " s3://<bucket>[/path], gs://<bucket>[/path], azure://<container>[/path]."
        )
    return None


def check_tracking_uri(uri: str) -> str | None:
    if not TRACKING_RE.fullmatch(uri):
        return (
            f"mlflow_tracking_uri: {uri!r} is not a tracking URI"
            " (expected sqlite:///<file>, http(s)://<server> or postgresql://...)."
        )
    return None


def check_include_api(value: str) -> str | None:
    if value not in ("yes", "no"):
        return f"include_api: {value!r} must be 'yes' or 'no'."
    return None


CHECKS: dict[str, Callable[[str], str | None]] = {
    "project_name": check_project_name,
    "project_slug": check_slug,
    "module_name": check_module,
    "description": lambda value: no_triple_quotes("description", value),
    "author_name": lambda value: no_triple_quotes("author_name", value),
    "author_email": check_email,
    "python_version": check_python,
    "open_source_license": check_license,
    "image_registry": check_registry,
    "image_name": check_image_name,
    "dvc_remote_url": check_remote,
    "mlflow_tracking_uri": check_tracking_uri,
    "include_api": check_include_api,
}


def text_problem(field: str, value: str) -> str | None:
    """What makes an answer unusable as plain one-line text, whatever the field."""
    if any(unicodedata.category(c) in UNPRINTABLE_CATEGORIES for c in value):
        return (
            f"{field}: {value!r} contains a line break, a control character or bytes that are not UTF-8;"
            " use one line of text."
        )
    if any(delimiter in value for delimiter in JINJA_DELIMITERS):
        return (
            f"{field}: {value!r} contains Jinja template syntax ({{{{ }}}}, {{% %}} or {{# #}}); answers are plain"
            " text, not templates."
        )
    return None


def image_reference_problem(answers: Mapping[str, str]) -> str | None:
    reference = f"{answers.get('image_registry', '')}/{answers.get('image_name', '')}"
    if len(reference) > MAX_IMAGE_REFERENCE_LENGTH:
        return (
            f"image_name: the image reference {reference[:40]!r}... is {len(reference)} characters long;"
            f" registries accept at most {MAX_IMAGE_REFERENCE_LENGTH} for image_registry/image_name together."
        )
    return None


def problems(answers: Mapping[str, Any]) -> list[str]:
    """Return one human-readable message per invalid answer (empty when all are valid)."""
    texts = {key: str(value) for key, value in answers.items()}
    found: dict[str, str] = {}
    for field, value in texts.items():
        message = text_problem(field, value)
        if message:
            found[field] = message
    for field, check in CHECKS.items():
        message = check(texts[field]) if field in texts and field not in found else None
        if message:
            found[field] = message
    if "image_name" not in found and "image_registry" not in found:
        message = image_reference_problem(texts)
        if message:
            found["image_name"] = message
    return list(found.values())


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


@cache
def template_values() -> frozenset[str]:
    """Every string of cookiecutter.json: the only values that are templates (defaults such as the slug's)."""
    strings: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, str):
            strings.add(value)
        elif isinstance(value, dict):
            for key, item in value.items():
                walk(key)
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(json.loads((Path(__file__).resolve().parents[1] / "cookiecutter.json").read_text(encoding="utf-8")))
    return frozenset(strings)


def verbatim(text: str) -> nodes.Template:
    """A template that renders to `text` exactly, whatever Jinja syntax it holds."""
    return nodes.Template([nodes.Output([nodes.TemplateData(text)])])


def keep_answers_verbatim(environment: Environment) -> None:
    """Render answers as the text they are, never as templates.

    While prompting, cookiecutter renders every value of the context (cookiecutter.prompt.render_variable): the
    defaults of cookiecutter.json, and just the same an answer given with --no-input, extra_context or a user
    config. An answer holding "{% raw %}" would then stop the bake with a traceback, and "{{ ... }}" would run
    code during generation. So while prompting, only cookiecutter.json's own strings are compiled as templates;
    any other string renders as itself, and text_problem() then refuses it if it holds Jinja delimiters.
    File names and hook scripts, rendered later, are the template's and compile as usual.
    """
    compile_source = environment.from_string

    def from_string(
        source: str | nodes.Template,
        globals: MutableMapping[str, Any] | None = None,
        template_class: type[Template] | None = None,
    ) -> Template:
        # The caller tells the phase: only cookiecutter.prompt renders context values; later callers render files.
        prompting = sys._getframe(1).f_globals.get("__name__") == "cookiecutter.prompt"
        if prompting and isinstance(source, str) and source not in template_values():
            source = verbatim(source)
        return compile_source(source, globals, template_class)

    environment.from_string = from_string  # type: ignore[method-assign]  # replaced on this environment only, on purpose


class ValidateAnswers(Extension):
    """The `validate_answers` filter (listed in cookiecutter.json `_extensions`); answers stay verbatim."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.filters["validate_answers"] = validate_answers
        keep_answers_verbatim(environment)
