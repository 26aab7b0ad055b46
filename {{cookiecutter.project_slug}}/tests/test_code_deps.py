"""dvc.yaml lists exactly the code each stage runs, derived from the imports (code_deps.py)."""

from __future__ import annotations

from pathlib import Path

import support

from {{ cookiecutter.module_name }}.stages.code_deps import closure, derived, stage_files


def test_dvc_yaml_lists_the_derived_code_of_every_stage(monkeypatch) -> None:
    monkeypatch.chdir(support.PROJECT_ROOT)
    assert (support.PROJECT_ROOT / "dvc.yaml").read_text(encoding="utf-8") == derived(), (
        "dvc.yaml is out of date: run `python -m {{ cookiecutter.module_name }}.stages.code_deps`"
    )


def fake_package(root: Path) -> Path:
    package = root / "src" / "pkg"
    (package / "stages").mkdir(parents=True)
    files = {
        "__init__.py": "",
        "stages/__init__.py": "",
        "stages/__main__.py": "from ..errors import fail\n",
        "stages/train.py": "def run():\n    from ..model import build\n",
        "stages/data.py": "from .. import loader\n",
        "errors.py": "",
        "model.py": "from .helpers import util\n",
        "helpers.py": "",
        "loader.py": "",
        "mine.py": "",
        "unused.py": "",
    }
    for name, text in files.items():
        (package / name).write_text(text, encoding="utf-8")
    return package


def test_lazy_transitive_and_configured_imports_are_followed(tmp_path: Path) -> None:
    package = fake_package(tmp_path)
    train = stage_files(
        "train", {"model": {"estimator": {"_target_": "pkg.mine.Estimator"}}}, package
    )
    assert train == [
        f"src/pkg/{name}"
        for name in [
            "__init__.py",
            "errors.py",
            "helpers.py",
            "mine.py",
            "model.py",
            "stages/__init__.py",
            "stages/__main__.py",
            "stages/train.py",
        ]
    ]
    data = stage_files("data", {}, package)
    assert "src/pkg/loader.py" in data and "src/pkg/model.py" not in data
    assert "pkg.unused" not in closure(["pkg.stages.train", "pkg.stages.data"], package)
