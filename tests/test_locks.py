"""The generated project's lock files: hashed pins that satisfy pyproject.toml in every lock that must hold
them, alike across locks installed together, the web stack only with the API; the project's own lock commands
reproduce them, upgrade them validly, and plain pip installs from them.

Fast tier: bake and inspect. Full tier: run the lock commands (PyPI) and a pip install.
"""

from __future__ import annotations

import itertools
import re
import shutil
from pathlib import Path

import pytest
from helpers import TEMPLATE_DIR, Bake, git, python_for, run
from packaging.requirements import Requirement

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

TEMPLATE_PROJECT = TEMPLATE_DIR / "{{cookiecutter.project_slug}}"
REMOTE_KINDS = ("s3", "gs", "azure")
# Web stack packages only the API declares (fastapi, uvicorn and starlette also come with mlflow).
API_ONLY = {"httptools", "uvloop", "prometheus-client"}


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def lock_sources(project: Path) -> dict[str, list[Requirement]]:
    """Each lock file a baked project has, with the requirements of pyproject.toml it must pin.

    What `make pin-dependencies` compiles into each: the runtime set, plus the dev group, the api extra or a
    remote's extra; the serving image's locks hold a dependency group alone.
    """
    pyproject = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    runtime = [Requirement(r) for r in pyproject["project"]["dependencies"]]
    extras = pyproject["project"].get("optional-dependencies", {})
    groups = pyproject.get("dependency-groups", {})

    def group(name: str) -> list[Requirement]:
        found: list[Requirement] = []
        for item in groups[name]:
            found += group(item["include-group"]) if isinstance(item, dict) else [Requirement(item)]
        return found

    sources = {"requirements.txt": runtime, "requirements-dev.txt": runtime + group("dev")}
    if "api" in extras:
        sources["requirements-api.txt"] = runtime + [Requirement(r) for r in extras["api"]]
        sources["requirements-serve.txt"] = group("serve")
        sources["requirements-serve-onnx.txt"] = group("serve-onnx")
    for kind in REMOTE_KINDS:
        sources[f"requirements-remote-{kind}.txt"] = runtime + [Requirement(r) for r in extras[kind]]
    return sources


def read_lock(path: Path) -> list[tuple[Requirement, int]]:
    """The pins of a uv lock file: (name==version ; marker, number of hashes)."""
    pins: list[tuple[Requirement, int]] = []
    for block in re.split(r"\n(?=[A-Za-z0-9])", path.read_text(encoding="utf-8")):
        if not block[:1].isalnum():
            continue
        first_line = block.split("\n", 1)[0].rstrip(" \\")
        pins.append((Requirement(first_line), block.count("--hash=sha256:")))
    return pins


def lock_problems(project: Path, locks: Path | None = None) -> list[str]:
    """Why the locks (in `locks`, default the project) are stale or malformed for the project's pyproject.toml."""
    locks = locks or project
    problems: list[str] = []
    for lock, requirements in lock_sources(project).items():
        if not (locks / lock).exists():
            if not lock.startswith("requirements-remote-"):  # only the chosen bucket remote has a lock
                problems.append(f"{lock}: missing")
            continue
        header = (locks / lock).read_text(encoding="utf-8").splitlines()[:2]
        if header[1:] != ["#    make pin-dependencies"]:
            problems.append(f"{lock}: the header does not name `make pin-dependencies`: {header}")
        pins: dict[str, list[Requirement]] = {}
        for pin, hashes in read_lock(locks / lock):
            pins.setdefault(normalize(pin.name), []).append(pin)
            version = next(iter(pin.specifier))
            if version.operator != "==" or hashes == 0:
                problems.append(f"{lock}: {pin} is not pinned with hashes")
        for requirement in requirements:
            found = pins.get(normalize(requirement.name), [])
            if not found:
                problems.append(f"{lock}: no pin for {requirement} from pyproject.toml")
            for pin in found:
                version = next(iter(pin.specifier)).version
                if not requirement.specifier.contains(version, prereleases=True):
                    problems.append(f"{lock}: {pin} does not satisfy {requirement} from pyproject.toml")
    return problems


def lock_notes(path: Path) -> dict[str, set[str]]:
    """Each locked package (normalized name) with its "# via" notes: what needs it."""
    notes: dict[str, set[str]] = {}
    for block in re.split(r"\n(?=[A-Za-z0-9])", path.read_text(encoding="utf-8")):
        if block[:1].isalnum():
            name = normalize(Requirement(block.split("\n", 1)[0].rstrip(" \\")).name)
            found = re.findall(r"#[ \t]+(?:via[ \t]+)?(\S.*)", block)
            notes.setdefault(name, set()).update(n for n in found if n != "via" and not n.startswith("-c "))
    return notes


# ---------------------------------------------------------------------------------------------- fast tier


def test_shipped_locks_are_not_stale(variants: dict[str, Path]) -> None:
    """Every requirement of pyproject.toml has hashed pins that satisfy it, in each lock that must hold it."""
    assert lock_problems(variants["api"], TEMPLATE_PROJECT) == []
    assert lock_problems(variants["api"]) == []
    assert lock_problems(variants["no-api"]) == []


def test_locks_installed_together_pin_shared_packages_alike(variants: dict[str, Path]) -> None:
    """`-c` chains the locks: a package two locks pin has the same versions in both (installed together)."""
    pins: dict[str, dict[str, set[str]]] = {}
    for lock in lock_sources(variants["api"]):
        for pin, _ in read_lock(TEMPLATE_PROJECT / lock):
            pins.setdefault(lock, {}).setdefault(normalize(pin.name), set()).add(str(next(iter(pin.specifier))))
    for first, second in itertools.combinations(pins, 2):
        differ = sorted(n for n in set(pins[first]) & set(pins[second]) if pins[first][n] != pins[second][n])
        assert differ == [], f"{first} and {second} pin {differ} differently"


def test_without_the_api_no_lock_installs_the_web_stack(variants: dict[str, Path]) -> None:
    """include_api=no: no api extra, no API or serving lock; fastapi and uvicorn only as mlflow's own needs."""
    project = variants["no-api"]
    locks = sorted(path.name for path in project.glob("requirements*.txt"))
    assert locks == ["requirements-dev.txt", "requirements.txt"]
    pyproject = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    assert "api" not in pyproject["project"]["optional-dependencies"]
    assert not {"serve", "serve-onnx"} & set(pyproject["dependency-groups"])
    for lock in project.glob("requirements*.txt"):
        notes = lock_notes(lock)
        assert API_ONLY.isdisjoint(notes), f"{lock.name}: {sorted(API_ONLY & set(notes))}"
        for name in ("fastapi", "uvicorn"):
            assert notes[name] == {"mlflow-skinny"}, f"{lock.name}: {name} is there for {notes[name]!r}"
    api_notes = lock_notes(variants["api"] / "requirements-api.txt")
    assert set(api_notes) >= API_ONLY and "iris-classifier (pyproject.toml)" in api_notes["fastapi"]


def test_serving_locks_hold_what_the_api_declares(variants: dict[str, Path]) -> None:
    """The image's locks: the api extra and the ONNX runtime, and scikit-learn only in the scikit-learn one."""
    pyproject = tomllib.loads((variants["api"] / "pyproject.toml").read_text(encoding="utf-8"))
    web_stack = {normalize(Requirement(r).name) for r in pyproject["project"]["optional-dependencies"]["api"]}
    onnx = set(lock_notes(TEMPLATE_PROJECT / "requirements-serve-onnx.txt"))
    sklearn = set(lock_notes(TEMPLATE_PROJECT / "requirements-serve.txt"))
    assert web_stack | {"onnxruntime", "numpy", "pydantic"} <= onnx <= sklearn
    assert {"scikit-learn", "scipy", "pandas", "joblib"} <= sklearn
    assert onnx.isdisjoint({"scikit-learn", "scipy", "pandas", "joblib", "skops", "mlflow", "dvc", "hydra-core"})


def test_lock_checker_catches_a_stale_lock(variants: dict[str, Path], tmp_path: Path) -> None:
    """The staleness check can fail: a raised lower bound, a new requirement and a pin edited by hand."""
    shutil.copytree(variants["api"], tmp_path / "project")
    project = tmp_path / "project"
    pyproject = project / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    pyproject.write_text(
        text.replace("dependencies = [\n", 'dependencies = [\n  "scikit-learn>=99",\n  "left-pad-for-python>=1",\n', 1),
        encoding="utf-8",
    )
    dev_lock = project / "requirements-dev.txt"
    dev_lock.write_text(re.sub(r"^ruff==\S+", "ruff==0.0.1", dev_lock.read_text(encoding="utf-8"), flags=re.M))
    problems = "\n".join(lock_problems(project))
    assert "requirements.txt: " in problems and "does not satisfy scikit-learn>=99" in problems
    assert "requirements-serve.txt" not in problems  # the image's locks do not hold the pipeline
    assert "no pin for left-pad-for-python>=1" in problems
    assert "requirements-dev.txt: ruff==0.0.1 does not satisfy ruff>=0.8" in problems


# ---------------------------------------------------------------------------------------------- full tier


@pytest.mark.full
def test_make_pin_dependencies_leaves_the_locks_unchanged(bake: Bake) -> None:
    """A fresh bake: the lock commands need uv (on PATH), not the project's venv."""
    project = bake()
    run(["make", "pin-dependencies"], cwd=project, timeout=600)
    assert git(project, "status", "--porcelain", "--", "requirements*.txt") == ""


@pytest.mark.full
def test_lock_commands_reproduce_the_shipped_locks(variants: dict[str, Path], tmp_path: Path) -> None:
    """The project's `make pin-dependencies`, run on every lock the template ships (each bucket remote's too),
    changes nothing: the locks are what pyproject.toml declares."""
    project = variants["api"]
    for name in ("Makefile", "pyproject.toml"):
        shutil.copy(project / name, tmp_path / name)
    shipped = {
        lock.name: lock.read_text(encoding="utf-8").replace("{{ cookiecutter.project_slug }}", project.name)
        for lock in TEMPLATE_PROJECT.glob("requirements*.txt")
    }
    assert set(shipped) == set(lock_sources(project)), "the template ships a lock for every set pyproject.toml declares"
    for name, text in shipped.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    run(["make", "pin-dependencies"], cwd=tmp_path, timeout=900)
    for name, text in shipped.items():
        assert (tmp_path / name).read_text(encoding="utf-8") == text, (
            f"{name} is stale: `make lock-project` at the template root re-locks it"
        )


@pytest.mark.full
def test_make_upgrade_dependencies_writes_valid_locks(bake: Bake) -> None:
    """A throwaway bake: upgrading needs PyPI and may change the locks, which must stay valid and hashed."""
    throwaway = bake()
    run(["make", "upgrade-dependencies"], cwd=throwaway, timeout=900)
    assert lock_problems(throwaway) == []


@pytest.mark.full
def test_plain_pip_installs_from_the_locks(bake: Bake, tmp_path: Path) -> None:
    """No uv: the same lock files work with python -m venv and pip --require-hashes, then the tests run."""
    pip_project = bake()
    venv = tmp_path / "pip-venv"
    run([python_for("3.11"), "-m", "venv", str(venv)], cwd=pip_project)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    locks = ["-r", "requirements-dev.txt", "-r", "requirements-api.txt"]  # what `make init` installs
    run([*pip, "--require-hashes", *locks], cwd=pip_project, timeout=1200)
    run([*pip, "--no-deps", "--editable", "."], cwd=pip_project, timeout=600)
    parallel = ["-n", "auto", "--dist", "loadfile"]  # as `make test` runs them
    result = run(
        [str(venv / "bin" / "python"), "-m", "pytest", "-q", "-m", "not slow", "-p", "no:cacheprovider", *parallel],
        cwd=pip_project,
        timeout=1200,
    )
    assert re.search(r"\d+ passed", result.stdout), result.stdout
