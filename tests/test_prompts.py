"""Bad answers stop generation with one clear message, a non-zero exit, and no directory left behind."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import TEMPLATE_DIR

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def cookiecutter_cli(output_dir: Path, *answers: str, extra: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "cookiecutter",
            "--no-input",
            "--output-dir",
            str(output_dir),
            *extra,
            str(TEMPLATE_DIR),
            *answers,
        ],
        capture_output=True,
        text=True,
    )


BAD_ANSWERS = [
    pytest.param(["project_slug=my project"], "project_slug: 'my project' is not a valid", id="slug-with-space"),
    pytest.param(["project_slug=MyProject"], "project_slug: 'MyProject' is not a valid", id="slug-with-capitals"),
    pytest.param(["project_slug=1project"], "project_slug: '1project' is not a valid", id="slug-leading-digit"),
    pytest.param(["module_name=class"], "module_name: 'class' is a Python keyword", id="module-keyword"),
    pytest.param(["module_name=match"], "module_name: 'match' is a Python keyword", id="module-soft-keyword"),
    pytest.param(["module_name=json"], "module_name: 'json' shadows the standard library", id="module-stdlib"),
    pytest.param(["module_name=mlflow"], "module_name: 'mlflow' clashes with a package", id="module-dependency"),
    pytest.param(["module_name=my-module"], "module_name: 'my-module' is not a valid Python", id="module-hyphen"),
    pytest.param(["author_email=me.example.com"], "author_email: 'me.example.com' is not an e-mail", id="email-no-at"),
    pytest.param(["author_email=me@localhost"], "author_email: 'me@localhost' is not an e-mail", id="email-no-tld"),
    pytest.param(["python_version=3.9"], "python_version: '3.9' is not supported; choose one of 3.10", id="python-39"),
    pytest.param(["python_version=3.14"], "python_version: '3.14' is not supported", id="python-314"),
    pytest.param(["open_source_license=GPL"], "open_source_license: 'GPL' is not offered", id="license"),
    pytest.param(["image_registry=GHCR.io/Me"], "image_registry: 'GHCR.io/Me' is not a registry", id="registry"),
    pytest.param(["image_name=My_Image"], "image_name: 'My_Image' is not a valid image name", id="image-name"),
    pytest.param(
        ["mlflow_tracking_uri=ftp://x"], "mlflow_tracking_uri: 'ftp://x' is not a tracking URI", id="tracking"
    ),
    pytest.param(["dvc_remote_url=ssh://host/x"], "dvc_remote_url: 'ssh://host/x' is not a supported", id="remote"),
    pytest.param(["include_api=maybe"], "include_api: 'maybe' must be 'yes' or 'no'", id="include-api"),
    pytest.param(["project_name=   "], "project_name: must not be empty", id="empty-name"),
    pytest.param(['description=a """ b'], "description: must be one line without triple quotes", id="description"),
]


@pytest.mark.parametrize(("answers", "message"), BAD_ANSWERS)
def test_bad_answer_is_refused_with_a_clear_message(tmp_path: Path, answers: list[str], message: str) -> None:
    result = cookiecutter_cli(tmp_path, *answers)

    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert list(tmp_path.iterdir()) == [], "a refused bake must leave nothing behind"


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    result = cookiecutter_cli(tmp_path, "module_name=class", "author_email=nope", "python_version=3.9")

    assert result.returncode != 0
    for field in ("module_name:", "author_email:", "python_version:"):
        assert field in result.stderr


def test_project_name_with_quotes_and_backslashes_bakes(tmp_path: Path) -> None:
    """Answers reach the hooks as JSON, so quotes cannot break them."""
    name = 'Bob\'s "Quoted" \\ Model'
    result = cookiecutter_cli(
        tmp_path,
        f"project_name={name}",
        f"description=Says {name}",
        f"author_name={name}",
        "project_slug=quoted-model",
        "module_name=quoted_model",
    )

    assert result.returncode == 0, result.stderr
    project = tmp_path / "quoted-model"
    assert name in (project / "README.md").read_text()
    assert tomllib.loads((project / "pyproject.toml").read_text())["project"]["authors"][0]["name"] == name
    package = project / "src" / "quoted_model" / "__init__.py"
    docstring = ast.get_docstring(ast.parse(package.read_text()))
    assert docstring is not None and docstring.startswith(name)
    lint = subprocess.run([Path(sys.executable).parent / "ruff", "check", "--no-cache", "."], cwd=project)
    assert lint.returncode == 0


def test_a_relative_template_path_bakes(tmp_path: Path) -> None:
    """`cookiecutter ./template`: the hooks find the answer checks from the caller's directory."""
    relative = os.path.relpath(TEMPLATE_DIR, tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "cookiecutter", "--no-input", relative, "python_version=3.9"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "PWD": str(tmp_path)},
    )
    assert result.returncode != 0 and "python_version: '3.9' is not supported" in result.stderr
    assert "Traceback" not in result.stderr
    result = subprocess.run(
        [sys.executable, "-m", "cookiecutter", "--no-input", relative],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "PWD": str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "iris-classifier" / ".cruft.json").is_file()


def test_derived_names_follow_the_project_name(tmp_path: Path) -> None:
    result = cookiecutter_cli(tmp_path, "project_name=Churn Forecast")

    assert result.returncode == 0, result.stderr
    assert (tmp_path / "churn-forecast" / "src" / "churn_forecast" / "__init__.py").is_file()


def test_existing_directory_is_never_overwritten(tmp_path: Path) -> None:
    project = tmp_path / "iris-classifier"
    project.mkdir()
    (project / "notes.md").write_text("precious")

    plain = cookiecutter_cli(tmp_path)
    assert plain.returncode != 0
    assert "already exists" in plain.stderr + plain.stdout

    forced = cookiecutter_cli(tmp_path, extra=("--overwrite-if-exists",))
    assert forced.returncode != 0
    assert "refusing to overwrite" in forced.stderr
    assert "Traceback" not in forced.stderr
    assert [p.name for p in project.iterdir()] == ["notes.md"]
    assert (project / "notes.md").read_text() == "precious"
