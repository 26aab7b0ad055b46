"""Bring the project up to date with its template: what `make update-template` runs.

cruft (https://cruft.github.io/cruft/) renders the template at the commit recorded in .cruft.json
and at its newest commit (or CHECKOUT), and applies the difference to the project as a patch. This
script makes what cruft leaves reviewable, and says what it is:

* a hunk git could not place (cruft writes it to a `*.rej` file and exits 0) becomes conflict
  markers in the file itself, the project's lines against the template's, and the .rej file goes;
* the files with conflict markers are listed;
* `make lint` and `make test` run on the result (after `make init` when the dependencies changed);
* a summary gives the template's old and new commits, the files changed, the files in conflict and
  the checks' results. The exit status is 1 on a conflict or a failed check (or when the update
  cannot run: one `ERROR:` line), else 0.

Nothing is committed: review with `git status` and `git diff`, resolve, commit. A clean working
tree is required before it starts, so every change it leaves is the update's.

It lives in tools/, outside the package: it maintains the project rather than being part of the
research code (not in the wheel, the image or the API reference), and it needs only the standard
library, git and the cruft command from the virtual environment.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

CRUFT_FILE = Path(".cruft.json")
# A change to these means the virtual environment must be synced again before the checks run.
DEPENDENCY_FILES = re.compile(r"(pyproject\.toml|requirements[^/]*\.txt)")
# How conflicts are marked, by git and by merge_rejected_hunks; pre-commit refuses such lines.
OURS_MARKER = "<<<<<<< this project"
THEIRS_MARKER = ">>>>>>>"  # then "template <commit>"
CONFLICT_START = re.compile(r"^<{7}(?: |$)", re.M)
CONFLICT_END = re.compile(r"^>{7}(?: |$)", re.M)
# cookiecutter's abbreviations: TEMPLATE=gh:org/repo works here as it does there.
ABBREVIATIONS = {
    "gh": "https://github.com/{}.git",
    "gl": "https://gitlab.com/{}.git",
    "bb": "https://bitbucket.org/{}",
}
# Files git could not patch at all, as `git apply` reports them (cruft passes its messages on).
NOT_APPLIED = re.compile(
    r"^error: (?P<path>.+?): "
    r"(?P<reason>already exists in working directory|No such file or directory)$",
    re.M,
)


class UpdateError(Exception):
    """A reason the update cannot run: shown as one `ERROR:` line."""


@dataclass
class Hunk:
    """A hunk of a unified diff, split where a merge needs it."""

    start: int  # the line (from 1) of the old file where the hunk began
    lead: list[str] = field(default_factory=list)  # context before the first changed line
    old: list[str] = field(default_factory=list)  # from the first to the last change: before
    new: list[str] = field(default_factory=list)  # the same span: after
    trail: list[str] = field(default_factory=list)  # context after the last changed line


@dataclass
class Outcome:
    """What the update did, for the summary and the exit status."""

    template: str
    checkout: str | None
    old_commit: str
    new_commit: str
    changed: dict[str, str]  # path -> "modified", "added" or "deleted"
    conflicts: list[str]
    not_applied: dict[str, str]  # path -> why
    checks: dict[str, str]  # make target -> "passed", "failed" or "not run (why)"

    @property
    def failed(self) -> list[str]:
        return [target for target, result in self.checks.items() if result == "failed"]

    @property
    def ok(self) -> bool:
        return not (self.conflicts or self.not_applied or self.failed)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Bring the project up to date with its template.")
    parser.add_argument(
        "--template", help="the template's path or git URL (default: .cruft.json's)"
    )
    parser.add_argument("--checkout", help="a branch, tag or commit of the template")
    parser.add_argument("--no-checks", action="store_true", help="skip make lint and make test")
    parser.add_argument("--summary", type=Path, help="also write the summary (Markdown) here")
    args = parser.parse_args(argv)
    try:
        outcome = update(args.template, args.checkout, checks=not args.no_checks)
    except UpdateError as error:
        print(f"ERROR: {error}", file=sys.stderr)
        return 1
    if outcome is None:
        return 0
    text = summary(outcome)
    print(f"\n{text}")
    if args.summary:
        args.summary.write_text(text, encoding="utf-8")
    return 0 if outcome.ok else 1


def update(template: str | None, checkout: str | None, *, checks: bool) -> Outcome | None:
    """Apply the template's changes; None when the template has nothing new."""
    require_clean_tree()
    state = read_state()
    source = expand(template) if template else state["template"]
    ref = checkout or state.get("checkout")
    old_commit = state["commit"]
    print(f"Updating from {source} ({ref or 'its default branch'}), now at {short(old_commit)}")
    rejects_before = rejected_hunk_files()
    cruft_output = run_cruft(source if template else None, ref)
    changed = changed_files()
    if not changed:
        print(f"The template has nothing new since {short(old_commit)} ({source}): nothing to do.")
        return None
    new_commit = read_state()["commit"]
    label = f"template {short(new_commit)}"
    for rejected in rejected_hunk_files() - rejects_before:
        merge_rejected_hunks(Path(rejected[: -len(".rej")]), Path(rejected), label)
        Path(rejected).unlink()
    # git's three-way merge stages what it applies and leaves conflicts unmerged in the index,
    # the fallback stages nothing: the same state either way, every change in the working tree.
    git("reset", "--quiet")
    changed = changed_files()
    conflicts = [path for path in changed if changed[path] != "deleted" and has_conflict(path)]
    for path in conflicts:
        name_the_sides(Path(path), label)
    not_applied = {
        match["path"]: (
            "the template adds this file and the project already has one"
            if match["reason"].startswith("already")
            else "the template changed this file, which the project has deleted (to stop"
            ' updates to it, list it in the "skip" list of .cruft.json)'
        )
        for match in NOT_APPLIED.finditer(cruft_output)
    }
    return Outcome(
        template=source,
        checkout=ref,
        old_commit=old_commit,
        new_commit=new_commit,
        changed=changed,
        conflicts=conflicts,
        not_applied=not_applied,
        checks=run_checks(changed) if checks else dict.fromkeys(("lint", "test"), "not run"),
    )


def git(*args: str) -> str:
    result = subprocess.run(["git", *args], capture_output=True, text=True)
    if result.returncode != 0:
        raise UpdateError(f"git {' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout


def require_clean_tree() -> None:
    try:
        top = git("rev-parse", "--show-toplevel").strip()
    except (UpdateError, FileNotFoundError):
        raise UpdateError(
            "not in a git repository: the update needs one to apply its changes"
        ) from None
    if Path(top).resolve() != Path.cwd().resolve():
        raise UpdateError(f"run the update from the project's top directory, {top}")
    if git("status", "--porcelain", "--untracked-files=all").strip():
        raise UpdateError(
            "the working tree has uncommitted changes or untracked files: commit or stash them"
            " first (git status), so that the update's changes are the only ones"
        )


def read_state() -> dict[str, str]:
    """The template's address, commit and checkout, as .cruft.json records them."""
    try:
        state = json.loads(CRUFT_FILE.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UpdateError(
            f"no {CRUFT_FILE}: this project does not record its template (cruft link <template>"
            " records one)"
        ) from None
    except json.JSONDecodeError as error:
        raise UpdateError(f"{CRUFT_FILE} is not valid JSON: {error}") from None
    if not isinstance(state, dict) or not state.get("template") or not state.get("commit"):
        raise UpdateError(f"{CRUFT_FILE} does not name the template and its commit")
    return state


def expand(template: str) -> str:
    prefix, _, rest = template.partition(":")
    if prefix in ABBREVIATIONS and rest and not rest.startswith("//"):
        return ABBREVIATIONS[prefix].format(rest)
    path = Path(template).expanduser()
    return str(path.resolve()) if path.exists() else template


def run_cruft(template: str | None, checkout: str | None) -> str:
    """`cruft update`, without questions; its output (git's messages included)."""
    command = [sys.executable, "-m", "cruft", "update", "--skip-apply-ask"]
    command += ["--template-path", template] if template else []
    command += ["--checkout", checkout] if checkout else []
    # Wide lines: cruft's error messages come from rich, which wraps them at the terminal's width.
    wide = {**os.environ, "COLUMNS": "400"}
    result = subprocess.run(command, capture_output=True, text=True, env=wide)
    output = result.stdout + result.stderr
    if result.returncode != 0 or "Traceback" in output:
        if git("status", "--porcelain", "--untracked-files=all").strip():
            # The tree was clean before: whatever is there now is cruft's, half done.
            git("reset", "--hard", "--quiet")
            git("clean", "-d", "--force", "--quiet")
        raise UpdateError(f"cruft could not update the project: {last_error(output)}")
    return output


def last_error(output: str) -> str:
    """The error cruft stopped on (its traceback's last entry, `Name: message`), on one line."""
    lines = output.splitlines()
    starts = [index for index, line in enumerate(lines) if re.match(r"[A-Z][\w.]*: ", line)]
    tail = lines[starts[-1] :] if starts else [line for line in lines if line.strip()][-1:]
    return " ".join(" ".join(tail).split()) or "no output"


def changed_files() -> dict[str, str]:
    """Every path that differs from the last commit, untracked files included."""
    kinds = {"M": "modified", "D": "deleted", "A": "added", "?": "added"}
    changed: dict[str, str] = {}
    entries = git("status", "--porcelain", "-z", "--untracked-files=all").split("\0")
    for entry in filter(None, entries):
        status, path = entry[:2], entry[3:]
        kind = next((kinds[code] for code in status if code in kinds), "modified")
        changed[path] = kind
    return dict(sorted(changed.items()))


def rejected_hunk_files() -> set[str]:
    """The `*.rej` files in the tree, ignored ones too (a global gitignore often lists them)."""
    # Without --exclude-standard: untracked and ignored files; --directory: .venv/ as one entry.
    listed = git("ls-files", "--others", "--directory", "-z").split("\0")
    return {path for path in listed if path.endswith(".rej")}


def has_conflict(path: str) -> bool:
    try:
        text = read(Path(path))
    except (UnicodeDecodeError, OSError):  # a binary file, a link to a directory or to nothing
        return False
    return bool(CONFLICT_START.search(text) and CONFLICT_END.search(text))


# ------------------------------------------------------------ rejected hunks to conflict markers


def parse_hunks(patch: str) -> list[Hunk]:
    """The hunks of a `.rej` file (git's header line, then unified diff hunks)."""
    hunks: list[Hunk] = []
    lines: list[tuple[str, str]] = []  # (" ", "-" or "+", the line)

    def close() -> None:
        if hunks and lines:
            split_hunk(hunks[-1], lines)
        lines.clear()

    for line in split_lines(patch):
        header = re.match(r"@@ -(\d+)(?:,\d+)? \+\d+(?:,\d+)? @@", line)
        if header:
            close()
            hunks.append(Hunk(start=int(header.group(1))))
        elif hunks and line.startswith("\\"):  # "\ No newline at end of file": of the line above
            if lines:
                kind, text = lines[-1]
                lines[-1] = (kind, text.rstrip("\r\n"))
        elif hunks and line[:1] in (" ", "-", "+"):
            lines.append((line[0], line[1:]))
        elif hunks and line in ("\n", "\r\n"):  # a blank context line whose space was trimmed
            lines.append((" ", line))
    close()
    return hunks


def split_hunk(hunk: Hunk, lines: list[tuple[str, str]]) -> None:
    changes = [index for index, (kind, _) in enumerate(lines) if kind != " "]
    first, last = (changes[0], changes[-1]) if changes else (len(lines), len(lines) - 1)
    hunk.lead = [text for _, text in lines[:first]]
    hunk.trail = [text for _, text in lines[last + 1 :]]
    middle = lines[first : last + 1]
    hunk.old = [text for kind, text in middle if kind != "+"]
    hunk.new = [text for kind, text in middle if kind != "-"]


def find_block(lines: list[str], block: list[str], near: int, start: int = 0) -> int | None:
    """Where `block` occurs in `lines` at or after `start`, the occurrence nearest `near`."""
    found = [
        index
        for index in range(start, len(lines) - len(block) + 1)
        if lines[index : index + len(block)] == block
    ]
    return min(found, key=lambda index: abs(index - near)) if found else None


def merge_hunk(lines: list[str], hunk: Hunk, label: str) -> list[str]:
    """`lines` with the hunk's change in it, as a conflict where the project's lines differ.

    The hunk's context lines (git writes three on each side, fewer only at the ends of the file)
    are looked for nearest where the hunk was; what the project has between them is one side of
    the conflict, the template's new lines the other. Context not found: the hunk's old place.
    """
    expected = max(hunk.start - 1, 0)  # where the lead context began in the template's old file
    begin = 0  # no lead context: the hunk starts the file
    if hunk.lead:
        found = find_block(lines, hunk.lead, near=expected)
        begin = (
            found + len(hunk.lead)
            if found is not None
            else min(expected + len(hunk.lead), len(lines))
        )
    if not hunk.trail:
        end = len(lines)  # no trail context: the hunk ends the file
    else:
        after = find_block(lines, hunk.trail, near=begin + len(hunk.old), start=begin)
        end = after if after is not None else min(begin + len(hunk.old), len(lines))
    ours, theirs = lines[begin:end], list(hunk.new)
    # Lines both sides agree on, at either end, stay outside the markers.
    while ours and theirs and ours[0] == theirs[0]:
        begin, ours, theirs = begin + 1, ours[1:], theirs[1:]
    while ours and theirs and ours[-1] == theirs[-1]:
        end, ours, theirs = end - 1, ours[:-1], theirs[:-1]
    if not ours and not theirs:
        return lines  # the project already has the template's new lines
    eol = "\r\n" if lines and lines[0].endswith("\r\n") else "\n"  # the file's own line ending
    # A side's last line may lack its newline (end of file): the markers must start a line.
    sides = [
        [*side[:-1], side[-1] if side[-1].endswith("\n") else side[-1] + eol] if side else []
        for side in (ours, theirs)
    ]
    conflict = [f"{OURS_MARKER}{eol}", *sides[0], f"======={eol}", *sides[1]]
    return [*lines[:begin], *conflict, f"{THEIRS_MARKER} {label}{eol}", *lines[end:]]


def merge_rejected_hunks(target: Path, rejected: Path, label: str) -> None:
    """Write the hunks of `rejected` into `target` as conflict markers."""
    lines = split_lines(read(target)) if target.exists() else []
    # From the last hunk to the first, so that each one's old line number still holds.
    for hunk in sorted(parse_hunks(read(rejected)), key=lambda h: -h.start):
        lines = merge_hunk(lines, hunk, label)
    write(target, "".join(lines))


def name_the_sides(path: Path, label: str) -> None:
    """git's three-way merge labels the sides `ours` and `theirs`: name them as merge_hunk does."""
    text = re.sub(r"^<{7} ours(?=\r?$)", OURS_MARKER, read(path), flags=re.M)
    write(path, re.sub(r"^>{7} theirs(?=\r?$)", f"{THEIRS_MARKER} {label}", text, flags=re.M))


def split_lines(text: str) -> list[str]:
    """Lines with their endings; only a newline ends one (str.splitlines also splits at \\f)."""
    return [line for line in re.split(r"(?<=\n)", text) if line]


def read(path: Path) -> str:
    """A text file as it is, its line endings included."""
    with path.open(encoding="utf-8", newline="") as file:
        return file.read()


def write(path: Path, text: str) -> None:
    with path.open("w", encoding="utf-8", newline="") as file:
        file.write(text)


# ------------------------------------------------------------ checks and summary


def make(target: str, *variables: str) -> bool:
    print(f"\n==> make {target}", flush=True)
    return subprocess.run(["make", "--no-print-directory", target, *variables]).returncode == 0


def run_checks(changed: dict[str, str]) -> dict[str, str]:
    """make lint and make test on the updated project; make init first if the locks changed."""
    checks: dict[str, str] = {}
    if any(DEPENDENCY_FILES.fullmatch(path) for path in changed):
        # The venv's interpreter (a link to the one it was made from): make init keeps it.
        python = os.path.realpath(sys.executable)
        checks["init"] = "passed" if make("init", f"PYTHON={python}") else "failed"
        if checks["init"] == "failed":
            return {
                **checks,
                "lint": "not run (make init failed)",
                "test": "not run (make init failed)",
            }
    for target in ("lint", "test"):
        checks[target] = "passed" if make(target) else "failed"
    return checks


def short(commit: str) -> str:
    return commit[:10]


def compare_url(template: str, old: str, new: str) -> str | None:
    """The template's own diff page, for a template on GitHub."""
    match = re.fullmatch(r"(?:https://|git@)github\.com[/:]([^/]+/[^/]+?)(?:\.git)?/?", template)
    return f"https://github.com/{match.group(1)}/compare/{old}...{new}" if match else None


def summary(outcome: Outcome) -> str:
    """What the update did, in Markdown: the terminal reads it as well as a pull request does."""
    old, new = outcome.old_commit, outcome.new_commit
    source = f"`{outcome.template}`" + (f" (`{outcome.checkout}`)" if outcome.checkout else "")
    url = compare_url(outcome.template, old, new)
    lines = [
        f"## Template update: {short(old)} → {short(new)}",
        "",
        f"From the template {source}: commit `{old}` to `{new}`"
        + (f" ([the template's changes]({url}))." if url else "."),
        "",
        f"### Files changed ({len(outcome.changed)})",
        "",
        *[f"- `{path}` ({kind})" for path, kind in outcome.changed.items()],
    ]
    if outcome.conflicts:
        lines += [
            "",
            f"### Files in conflict ({len(outcome.conflicts)})",
            "",
            f"Each conflict is marked in the file: the project's lines after `{OURS_MARKER}`,"
            f" the template's after `=======`, up to `{THEIRS_MARKER} template ...`."
            " Keep what belongs, delete the three marker lines.",
            "",
            *[f"- `{path}`" for path in outcome.conflicts],
        ]
    if outcome.not_applied:
        lines += [
            "",
            f"### Not applied ({len(outcome.not_applied)})",
            "",
            *[f"- `{path}`: {why}" for path, why in outcome.not_applied.items()],
            "",
            "`.venv/bin/cruft diff` shows where the project still differs from the template.",
        ]
    lines += ["", "### Checks", ""]
    lines += [f"- `make {target}`: {result}" for target, result in outcome.checks.items()]
    problems = [f"{len(outcome.conflicts)} file(s) in conflict"] if outcome.conflicts else []
    problems += [f"{len(outcome.not_applied)} file(s) not applied"] if outcome.not_applied else []
    problems += [f"make {target} failed" for target in outcome.failed]
    verdict = (
        f"**Needs work**: {', '.join(problems)}."
        if problems
        else "**Ready to commit** after review."
    )
    lines += ["", f"{verdict} Nothing is committed: review with `git status` and `git diff`."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
