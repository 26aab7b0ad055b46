"""`make repro`: the whole pipeline, one run at a time, in one process.

    python -m {{ cookiecutter.module_name }}.stages.repro [dvc repro options]

`dvc repro` composes nothing, so this composes configs/ into params.yaml and refreshes dvc.yaml's
code lists first, then runs `dvc repro` itself (DVC's own command, in this process). Done outside a
lock, a second run could rewrite params.yaml while the first one trains, and dvc.lock would then
record settings the model was not trained with. So:

1. this project's run lock (.dvc/tmp/make-repro.lock) is held from the start to the end: a second
   `make repro` stops at once with one line, before it writes anything;
2. the composition runs under DVC's own repository lock too, so no `dvc repro` or `dvc exp run`
   started by hand runs meanwhile;
3. every `.dvc` file git shows must be one DVC sees: DVC skips a directory a .gitignore rule
   ignores, and then deletes the file such a `.dvc` file tracks as an "unused link" on
   `dvc checkout`, `dvc pull` or `dvc exp run`. That stops here, before DVC runs.

A source tracked with `dvc add` and edited since is recorded by `dvc repro` itself (a new hash
in its .dvc file, the bytes in the cache) before the stages that read it run; the last line says
so, since the .dvc file is then to be committed with dvc.lock.

A run with nothing to do costs DVC's own checks (seconds of imports and YAML). So a run that ends
with everything up to date records what it saw (stamp.py: the size, times and inode of every file
the pipeline's stages, params.yaml composition and code lists depend on or write, listed from
dvc.lock, the .dvc files and dvc.yaml's inputs); the next `make repro` that finds every one of
them unchanged says so in a fraction of a second, without loading DVC. Any change (a config, the
code, the data, an output, a .gitignore, a .dvc file), a dependency that is not a local file (a
URL) or a stage DVC always reruns goes through DVC, as does `make repro` with options.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import os
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..utils.errors import PipelineError, exit_on_error, first_line
from . import COMPOSED_ENV
from .stamp import (
    CODE_LISTS_STAMP,
    STAMP,
    code_lists_key,
    dvc_files,
    read_stamp,
    record_stamp,
    up_to_date,
)

RUN_LOCK = Path(".dvc/tmp/make-repro.lock")


@contextmanager
def run_lock(path: Path = RUN_LOCK) -> Iterator[None]:
    """Hold the project's run lock, or stop at once when another process holds it.

    An flock: the system releases it when its process ends, however it ends (kill -9 too), so a
    lock file left behind never blocks the next run.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            if error.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                raise PipelineError(f"cannot lock {path}: {error.strerror}.") from error
            handle.seek(0)
            holder = handle.read().strip()
            process = f" (process {holder})" if holder.isdigit() else ""
            raise PipelineError(
                f"another `make repro` is running in this project{process}: it holds the"
                f" lock {path}; wait for it to finish, then run `make repro` again."
            ) from error
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        yield


@contextmanager
def dvc_lock(repo: Any) -> Iterator[None]:
    """Hold DVC's own repository lock (the one every `dvc repro` and `dvc exp run` takes)."""
    from dvc.lock import LockError, make_lock

    lock = make_lock(
        os.path.join(repo.tmp_dir, "lock"),
        tmp_dir=repo.tmp_dir,
        hardlink_lock=repo.config["core"].get("hardlink_lock", False),
    )
    try:
        lock.lock()  # a few retries over 3 s, as DVC's own commands do
    except LockError as error:
        raise PipelineError(
            "another DVC command (dvc repro, dvc exp run, ...) is running in this project:"
            " wait for it to finish, then run `make repro` again."
        ) from error
    try:
        yield
    finally:
        lock.unlock()


def hidden_path(repo: Any, dvc_file: str) -> str | None:
    """What hides dvc_file from DVC: a directory above it, or the file itself, that DVC reads as
    git-ignored (None: DVC sees the file).

    The same test DVC's own walk applies (dvc.repo.index.collect_files), which differs from git's
    for a rule like `/data/*`: git still reads data/external/, DVC skips all of data/.
    """
    parts = Path(dvc_file).parts
    for depth in range(1, len(parts) + 1):
        path = os.path.join(*parts[:depth])
        is_directory = depth < len(parts)
        # A trailing separator asks about the directory itself, as DVC's walk does.
        absolute = os.path.join(repo.root_dir, path) + (os.sep if is_directory else "")
        if repo.scm.is_ignored(absolute):
            return f"{path}/" if is_directory else path
    return None


def check_dvc_files_visible(repo: Any, files: Sequence[str]) -> None:
    for dvc_file in files:
        hidden = hidden_path(repo, dvc_file)
        if hidden is None:
            continue
        example = (
            f" (/{hidden}?* ignores only what is inside {hidden}; /{hidden}* ignores it too)"
            if hidden.endswith("/")
            else ""
        )
        raise PipelineError(
            f"DVC does not see {dvc_file}: a .gitignore rule ignores {hidden} (`git check-ignore"
            f" -v {hidden}`), so `dvc checkout` and `dvc exp run` would delete the data it"
            f" tracks. Change the rule so that it does not match {hidden}{example}."
        )


def prepare() -> dict[str, bytes]:
    """Under DVC's lock: check the .dvc files, compose params.yaml, refresh the code lists.

    Returns each .dvc file's bytes, to tell afterwards which ones `dvc repro` updated.
    """
    from dvc.exceptions import DvcException
    from dvc.repo import Repo

    from ..config import PARAMS_FILE, load_params, write_params
    from . import code_deps
    from .config import check_source

    try:
        repo = Repo()
    except DvcException as error:
        raise PipelineError(f"{first_line(error)} (run `make repro` in the project).") from error
    with repo, dvc_lock(repo):
        files = dvc_files()
        check_dvc_files_visible(repo, files)
        write_params(PARAMS_FILE)
        check_source(load_params(PARAMS_FILE).data.source)
        # Derived again only when what they are derived from changed (parsing every module of
        # the package for each stage takes a good part of a second).
        if read_stamp(CODE_LISTS_STAMP) != code_lists_key(code_deps.PACKAGE_DIR, PARAMS_FILE):
            if code_deps.main([]) != 0:
                raise SystemExit(1)  # code_deps has said why
            key = code_lists_key(code_deps.PACKAGE_DIR, PARAMS_FILE)
            CODE_LISTS_STAMP.write_text(key + "\n", encoding="utf-8")
        # The config stage, when DVC runs it, finds these very bytes and composes nothing again.
        os.environ[COMPOSED_ENV] = hashlib.sha256(PARAMS_FILE.read_bytes()).hexdigest()
    return {name: Path(name).read_bytes() for name in files if Path(name).is_file()}


def report_recorded_sources(before: dict[str, bytes]) -> None:
    for name, content in before.items():
        if Path(name).is_file() and Path(name).read_bytes() != content:
            print(
                f"repro: {name.removesuffix('.dvc')} changed since its `dvc add`: DVC recorded"
                f" the new version in {name} (commit it with dvc.lock; `make push-data` uploads"
                " it)."
            )


@exit_on_error
def main(argv: Sequence[str] | None = None) -> None:
    options = list(sys.argv[1:] if argv is None else argv)
    if not RUN_LOCK.parent.parent.is_dir():  # the lock must not make a .dvc/ of its own
        raise PipelineError("no .dvc/ here: run `make repro` at the project's root.")
    with run_lock():  # first: a second run stops before it imports or writes anything
        if not options and up_to_date():
            print(
                "Data and pipelines are up to date: what the stages read and write didn't change"
                f" since the last `make repro` ({STAMP})."
            )
            sys.exit(0)
        STAMP.unlink(missing_ok=True)
        started_ns = time.time_ns()
        before = prepare()
        from dvc.cli import main as dvc_main

        status = dvc_main(["repro", *options])
        report_recorded_sources(before)
        if status == 0 and not options:
            record_stamp(started_ns)
    sys.exit(status)


if __name__ == "__main__":
    main()
