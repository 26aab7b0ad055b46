"""Last checks before rendering: the answers (again) and the output directory.

The answers were already checked while cookiecutter rendered them (hooks/answers.py); this catches bakes
that skip that step (--replay) and, with --overwrite-if-exists, refuses to write over a user's files.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

# Rendered by cookiecutter: JSON escapes every quote, so no answer can end the raw string early.
CONTEXT: dict[str, Any] = json.loads(r"""{{ cookiecutter | jsonify }}""")


def recheck_answers(context: dict[str, Any]) -> list[str]:
    """The answer checks of hooks/answers.py, when the template directory can be found.

    cookiecutter passes it as _repo_dir, relative when the user named a relative path; this hook runs
    inside the new project, so a relative one is resolved against the caller's directory ($PWD).
    cruft passes none, but it always renders the answers through the validating filter, so there is
    nothing to re-check then.
    """
    repo_dir = context.get("_repo_dir")
    if not repo_dir:
        return []
    candidates = [Path(repo_dir), Path(os.environ.get("PWD", "")) / repo_dir]
    hooks = next((c / "hooks" for c in candidates if c.is_absolute() and (c / "hooks" / "answers.py").is_file()), None)
    if hooks is None:
        return []  # the filter in cookiecutter.json has already checked every rendered answer
    sys.path.insert(0, str(hooks))
    from answers import problems

    return problems({key: value for key, value in context.items() if not key.startswith("_")})


def report(found: list[str]) -> str:
    return "the project was not generated:\n" + "\n".join(f"  - {message}" for message in found)


def existing_entries(project_dir: Path) -> list[str]:
    """What is already in the output directory: only possible with --overwrite-if-exists."""
    return sorted(path.name for path in project_dir.iterdir())


def main() -> int:
    found = recheck_answers(CONTEXT)
    present = existing_entries(Path.cwd())
    if present:
        shown = ", ".join(present[:3]) + (", ..." if len(present) > 3 else "")
        found.append(
            f"output directory {Path.cwd()} already exists and holds {len(present)} entries ({shown});"
            " refusing to overwrite anything. Generate into a new directory, or update an existing"
            " project with 'cruft update'."
        )
    if found:
        print(f"ERROR: {report(found)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
