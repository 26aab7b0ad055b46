"""Bad answers stop generation with one clear message, a non-zero exit, and no directory left behind."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import TEMPLATE_DIR

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
    # Import names of locked dependencies, read from the packages' metadata (hooks/import_names.json).
    *[
        pytest.param(
            [f"module_name={module}"],
            f"module_name: {module!r} clashes with a package or folder the project uses ({owner})",
            id=f"module-shadows-{module}",
        )
        for module, owner in [
            ("yaml", "PyYAML"),
            ("sklearn", "scikit-learn"),
            ("dotenv", "python-dotenv"),
            ("psycopg_binary", "psycopg-binary"),
            ("skops", "skops"),
            ("onnx", "onnx"),
            ("scipy", "scipy"),
            ("test", "Python's own test package"),
            ("api", "the project's api/ folder"),
        ]
    ],
    # Trailing newlines and characters that break the Makefile, workflows, .dvc/config or `make init`.
    pytest.param(
        ["image_registry=ghcr.io/me\n"], "image_registry: 'ghcr.io/me\\n' contains a line break", id="registry-nl"
    ),
    pytest.param(["author_email=me@example.com\n"], "author_email: 'me@example.com\\n' contains a line", id="email-nl"),
    pytest.param(["project_slug=my-project\n"], "project_slug: 'my-project\\n' contains a line", id="slug-newline"),
    pytest.param(["description=one\ttwo"], "description: 'one\\ttwo' contains a line break, a control", id="tab"),
    pytest.param(["author_name=A\u2028B"], "author_name: 'A\\u2028B' contains a line break", id="unicode-line-sep"),
    pytest.param(["project_name=caf\udcff"], "project_name: 'caf\\udcff' contains a line break", id="not-utf8"),
    pytest.param(
        ['author_email=a"b@example.com'], "author_email: 'a\"b@example.com' is not an e-mail", id="email-quote"
    ),
    pytest.param(["author_email=a'b@example.com"], 'author_email: "a\'b@example.com" is not', id="email-apostrophe"),
    pytest.param(["author_email=a\\b@example.com"], "author_email: 'a\\\\b@example.com' is not", id="email-backslash"),
    pytest.param(["author_email=a;b@example.com"], "author_email: 'a;b@example.com' is not", id="email-semicolon"),
    pytest.param(["dvc_remote_url=../a,b"], "dvc_remote_url: '../a,b' contains ','", id="remote-comma"),
    pytest.param(["dvc_remote_url=../a#b"], "dvc_remote_url: '../a#b' contains '#'", id="remote-hash"),
    pytest.param(["dvc_remote_url=s3://b/x;y"], "dvc_remote_url: 's3://b/x;y' contains ';'", id="remote-semicolon"),
    pytest.param(['dvc_remote_url="../a"'], "dvc_remote_url: '\"../a\"' contains '\"'", id="remote-quote"),
    pytest.param(["dvc_remote_url=../a\n"], "dvc_remote_url: '../a\\n' contains a line break", id="remote-newline"),
    # Answers are text, never templates.
    pytest.param(
        ["project_name={% raw %}"], "project_name: '{% raw %}' contains Jinja template syntax", id="jinja-raw"
    ),
    pytest.param(["project_name={{ 7 * 7 }}"], "project_name: '{{ 7 * 7 }}' contains Jinja", id="jinja-expression"),
    pytest.param(["description={# note"], "description: '{# note' contains Jinja template syntax", id="jinja-comment"),
    pytest.param(["author_name=x %}"], "author_name: 'x %}' contains Jinja template syntax", id="jinja-closer"),
    pytest.param(["image_name={{x}}"], "image_name: '{{x}}' contains Jinja template syntax", id="jinja-image"),
    # Lengths: a 300-character module name used to fail with "File name too long" and leave files behind.
    pytest.param(
        ["module_name=" + "m" * 300], "module_name: 'mmmmmmmmmmmmmmmmmmmmmmmm'... is 300", id="module-300-chars"
    ),
    pytest.param(["module_name=" + "m" * 65], "is 65 characters long; use at most 64", id="module-65-chars"),
    pytest.param(["project_slug=" + "s" * 300], "is 300 characters long; use at most 64", id="slug-300-chars"),
    pytest.param(
        ["project_name=" + "P" * 300], "project_slug: 'pppppppppppppppppppppppp'... is 300", id="derived-slug"
    ),
    pytest.param(["image_name=" + "i" * 250], "registries accept at most 255", id="image-reference-too-long"),
    pytest.param(["author_email=" + "e" * 250 + "@example.com"], "at most 254 characters", id="email-too-long"),
]


@pytest.mark.parametrize(("answers", "message"), BAD_ANSWERS)
def test_bad_answer_is_refused_with_a_clear_message(tmp_path: Path, answers: list[str], message: str) -> None:
    result = cookiecutter_cli(tmp_path, *answers)

    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert list(tmp_path.iterdir()) == [], "a refused bake must leave nothing behind"


def test_a_jinja_payload_in_an_answer_never_runs(tmp_path: Path) -> None:
    """cookiecutter renders answers given on the command line: they must stay text, not run as templates."""
    marker = tmp_path / "payload-ran"
    payload = f"{{{{ cycler.__init__.__globals__.os.system('touch {marker}') }}}}"
    output = tmp_path / "out"
    result = cookiecutter_cli(output, f"project_name={payload}", "project_slug=safe", "module_name=safe")

    assert result.returncode != 0
    assert "project_name: " in result.stderr and "contains Jinja template syntax" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert not marker.exists(), "the answer was executed as a template"
    assert not output.exists() or list(output.iterdir()) == []


def test_interactive_answers_are_checked_like_command_line_ones(tmp_path: Path) -> None:
    """Typed answers go through the same checks (cookiecutter shows extra_context values as prompt defaults)."""
    result = subprocess.run(
        [sys.executable, "-m", "cookiecutter", "--output-dir", str(tmp_path), str(TEMPLATE_DIR)],
        input="My Project\n\nyaml\n" + "\n" * 20,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "module_name: 'yaml' clashes with a package or folder the project uses (PyYAML)" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert list(tmp_path.iterdir()) == []


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
