"""Build the serving image from the generated Dockerfile, run it, and look inside.

Both kinds: the ONNX image (the trained project as it is: training kept a checked model.onnx) and the
scikit-learn image (a copy of it whose models/ has no model.onnx, as when the export fails its check).

Without a Docker daemon: `make build-image` drives podman with chroot isolation on the vfs storage
driver, from a Debian base made here with debootstrap (Docker Hub may be unreachable), swapped in
with --build-arg BASE_IMAGE and nothing else. The base's root filesystem is cached under
.cache/container/ so later runs only import it. When the tools are missing the tests skip, loudly.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import pytest
from helpers import TEMPLATE_DIR, MakeServer, bake_project, call, run

CACHE = TEMPLATE_DIR / ".cache" / "container"
BASE_ROOTFS = CACHE / "bookworm-slim-python3.tar.gz"
BASE_IMAGE = "localhost/template-test-base:bookworm-slim-python3"
# What Debian's slim images (debian:bookworm-slim, under python:X-slim) leave out, as their build tool
# (debuerreotype-slimify) does; each package's copyright file stays.
SLIM_EXCLUDES = ("doc", "groff", "info", "linda", "lintian/overrides", "locale", "man")
# vfs: no overlay mounts needed; runc + cgroupfs: crun refuses this host's hybrid cgroups.
PODMAN = ["podman", "--storage-driver", "vfs", "--runtime", "runc", "--cgroup-manager", "cgroupfs"]
# The sandbox forbids raising rlimits and has no network namespaces to spare.
RUN_FLAGS = "--network host --ulimit nofile=1024:1024 --ulimit nproc=1024:1024"
CA_CANDIDATES = [os.environ.get("SSL_CERT_FILE", ""), "/etc/ssl/certs/ca-certificates.crt"]


def test_generated_dockerfile_passes_hadolint(tmp_path: Path) -> None:
    """Fast tier: the Dockerfile as generated lints clean."""
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).with_name("hadolint"))
    project = bake_project(tmp_path)
    result = run([hadolint, "Dockerfile"], cwd=project, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def container_tools_problem() -> str | None:
    """Why the image cannot be built and run here, or None when it can."""
    missing = [tool for tool in ("podman", "runc") if shutil.which(tool) is None]
    if not BASE_ROOTFS.exists() and shutil.which("debootstrap") is None:
        missing.append("debootstrap")
    if missing:
        return f"not installed: {', '.join(missing)} (apt-get install podman runc debootstrap)"
    if os.geteuid() != 0:
        return "needs root (chroot isolation and debootstrap)"
    return None


def podman(*args: str, check: bool = True, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    return run([*PODMAN, *args], cwd=TEMPLATE_DIR, check=check, timeout=timeout)


def remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink()


def make_base_rootfs() -> None:
    """Debian bookworm, minimal and slimmed like debian:bookworm-slim, with python3 and venv: what
    python:X-slim offers the Dockerfile."""
    rootfs = CACHE / "rootfs"
    shutil.rmtree(rootfs, ignore_errors=True)
    CACHE.mkdir(parents=True, exist_ok=True)
    run(
        [
            "debootstrap",
            "--variant=minbase",
            "--include=python3,python3-venv,ca-certificates",
            "bookworm",
            str(rootfs),
            "http://deb.debian.org/debian",
        ],
        cwd=CACHE,
        timeout=1200,
    )
    for leftovers in ("var/cache/apt/archives", "var/lib/apt/lists"):
        shutil.rmtree(rootfs / leftovers, ignore_errors=True)
    share = rootfs / "usr" / "share"
    kept_copyrights = set(share.glob("doc/*/copyright"))
    for excluded in SLIM_EXCLUDES:
        for entry in (share / excluded).glob("*"):
            if excluded == "doc" and entry.is_dir() and not entry.is_symlink():
                for item in entry.iterdir():
                    if item not in kept_copyrights:
                        remove(item)
            else:
                remove(entry)
    partial = BASE_ROOTFS.with_suffix(".partial")
    with tarfile.open(partial, "w:gz", compresslevel=1) as archive:
        archive.add(rootfs, arcname=".")
    partial.rename(BASE_ROOTFS)  # only a complete archive is ever cached
    shutil.rmtree(rootfs)


def ensure_base_image() -> None:
    if podman("image", "exists", BASE_IMAGE, check=False).returncode == 0:
        return
    if not BASE_ROOTFS.exists():
        make_base_rootfs()
    podman("import", str(BASE_ROOTFS), BASE_IMAGE)


def ca_bundle() -> str:
    """The host's CA bundle: where TLS is intercepted, pip in the build needs it (as a secret)."""
    return next((path for path in CA_CANDIDATES if path and Path(path).is_file()), "")


def expected_tag(project: Path) -> str:
    described = run(["git", "describe", "--tags", "--always", "--dirty"], cwd=project).stdout.strip()
    return f"ghcr.io/your-name/iris-classifier:{described}"


class Image(NamedTuple):
    tag: str
    runtime: str  # "onnx" or "scikit-learn": what `make build-image` chose from models/
    project: Path


# What only the scikit-learn runtime needs (and the ONNX image must not carry).
SKLEARN_ONLY = ("sklearn", "scipy", "pandas", "joblib")
# Top-level entries of a project that the image build never reads.
NOT_FOR_THE_IMAGE = {".venv", "data", "mlruns", "mlflow.db", "mlartifacts", "outputs", "multirun", ".pytest_cache"}


@pytest.fixture(scope="module", params=["onnx", "scikit-learn"])
def image_project(
    request: pytest.FixtureRequest, trained_project: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """The trained project (its model has a checked ONNX export), or a copy of it without model.onnx."""
    if request.param == "onnx":
        assert (trained_project / "models" / "model.onnx").is_file()
        return trained_project
    copy = tmp_path_factory.mktemp("no-onnx") / trained_project.name
    shutil.copytree(
        trained_project,
        copy,
        symlinks=True,
        ignore=lambda folder, names: NOT_FOR_THE_IMAGE & set(names) if Path(folder) == trained_project else set(),
    )
    (copy / "models" / "model.onnx").unlink()  # what training leaves when the export fails its check
    return copy


@pytest.fixture(scope="module")
def image(image_project: Path) -> Iterator[Image]:
    """`make build-image` in that project; the image is removed afterwards (vfs is big)."""
    problem = container_tools_problem()
    if problem:
        message = f"CONTAINER IMAGE NOT BUILT OR TESTED: {problem}"
        print(f"\n{'!' * 20} {message} {'!' * 20}", file=sys.stderr)
        pytest.skip(message)
    ensure_base_image()
    built = run(
        [
            "make",
            "build-image",
            f"CONTAINER={' '.join(PODMAN)}",
            f"BUILD_FLAGS=--isolation chroot --build-arg BASE_IMAGE={BASE_IMAGE}",
            f"CA_BUNDLE={ca_bundle()}",
        ],
        cwd=image_project,
        timeout=2400,
    )
    tag = expected_tag(image_project)
    runtime = "onnx" if (image_project / "models" / "model.onnx").exists() else "scikit-learn"
    assert f"Built {tag} (serving runtime: {runtime})" in built.stdout, built.stdout[-3000:]
    yield Image(tag, runtime, image_project)
    podman("rmi", "--force", tag, check=False)
    podman("image", "prune", "--force", check=False)  # the builder stage: ~600 MB each on vfs


@pytest.mark.full
def test_image_is_tagged_from_git_describe(image: Image) -> None:
    assert podman("image", "exists", image.tag, check=False).returncode == 0, image.tag


IMAGE_SIZES: dict[str, int] = {}


@pytest.mark.full
def test_the_onnx_image_is_the_smaller_one(image: Image) -> None:
    """Sizes as `podman images` counts them (base included), printed for the record; ONNX is built first."""
    size = int(podman("image", "inspect", "--format", "{{.Size}}", image.tag).stdout)
    base = int(podman("image", "inspect", "--format", "{{.Size}}", BASE_IMAGE).stdout)
    IMAGE_SIZES[image.runtime] = size
    above = f"{(size - base) / 1e6:.0f} MB above the {base / 1e6:.0f} MB base"
    print(f"\n{image.runtime} image: {size / 1e6:.0f} MB ({above})")
    if image.runtime == "scikit-learn" and "onnx" in IMAGE_SIZES:
        assert IMAGE_SIZES["onnx"] < size - 100_000_000, IMAGE_SIZES


@pytest.mark.full
def test_image_runs_as_non_root_with_a_healthcheck(image: Image) -> None:
    config = podman("image", "inspect", "--format", "{{.Config.User}}|{{json .Config.Healthcheck}}", image.tag)
    user, healthcheck = config.stdout.strip().split("|", 1)
    assert user == "10001:10001"
    assert '"api.healthcheck"' in healthcheck


class Container(NamedTuple):
    name: str
    port: int
    server: MakeServer  # `make run-image`, attached: its output is the container's log
    runtime: str


@pytest.fixture(scope="module")
def container(image: Image) -> Iterator[Container]:
    """`make run-image` on a free port (no API keys passed)."""
    name = f"template-test-{os.getpid()}"
    flags = (f"CONTAINER={' '.join(PODMAN)}", f"RUN_FLAGS={RUN_FLAGS} --name {name}")
    server = MakeServer(image.project, "run-image", *flags, env={"PORT": "{port}"})
    try:
        server.wait_until_answering("/health", deadline_s=180)
        yield Container(name, server.port, server, image.runtime)
    finally:
        podman("rm", "--force", name, check=False)
        server.stop(timeout=60)


@pytest.mark.full
def test_container_answers_health_ready_and_predict(container: Container) -> None:
    port = container.port
    assert call(port, "GET", "/health") == (200, {"status": "ok"})
    deadline = time.monotonic() + 60
    while call(port, "GET", "/ready")[0] != 200 and time.monotonic() < deadline:
        time.sleep(0.5)
    record = {"sepal_length": 7.7, "sepal_width": 3.0, "petal_length": 6.1, "petal_width": 2.3}
    status, body = call(port, "POST", "/predict", {"records": [record]})
    assert status == 200, body
    assert body["predictions"] == ["virginica"]
    status, metadata = call(port, "GET", "/metadata")
    assert status == 200 and metadata["runtime"] == container.runtime, metadata
    status, body = call(port, "POST", "/predict", {"records": [{"sepal_length": "x"}]})
    assert status == 422


@pytest.mark.full
def test_container_warns_when_it_serves_without_api_keys(container: Container) -> None:
    # HOST=0.0.0.0 in the image: without `-e API_KEYS=...` the model answers anyone who reaches it.
    assert "without API_KEYS" in container.server.output()


@pytest.mark.full
def test_container_healthcheck_passes(container: Container) -> None:
    name = container.name
    assert podman("healthcheck", "run", name, check=False).returncode == 0


@pytest.mark.full
def test_container_process_is_not_root(container: Container) -> None:
    name = container.name
    assert podman("exec", name, "id", "-u").stdout.strip() == "10001"


@pytest.mark.full
def test_image_holds_no_secrets_data_or_mlflow_store(container: Container) -> None:
    name = container.name
    assert sorted(podman("exec", name, "ls", "-A", "/app").stdout.split()) == ["models", "reports"]
    assert podman("exec", name, "ls", "-A", "/app/reports").stdout.split() == ["lineage.json"]
    model_file = "model.onnx" if container.runtime == "onnx" else "model.joblib"
    assert sorted(podman("exec", name, "ls", "-A", "/app/models").stdout.split()) == [model_file, "model_meta.json"]
    leaks = podman(
        "exec",
        "--user",
        "root",  # to see every directory; the server itself runs as 10001
        name,
        "find",
        "/",
        "-xdev",
        "(",
        "-name",
        ".env",
        "-o",
        "-name",
        "mlflow.db",
        "-o",
        "-name",
        "mlruns",
        "-o",
        "-name",
        ".dvc",
        "-o",
        "-name",
        ".git",
        "-o",
        "-name",
        ".venv",
        "-o",
        "-path",
        "/run/secrets/*",
        ")",
        "-print",
    ).stdout.split()
    assert leaks == []
    # The training data (data/*.csv) must not be there either; numpy's test fixtures are not ours.
    csvs = podman(
        "exec", "--user", "root", name, "find", "/", "-xdev", "-name", "*.csv", "-not", "-path", "*/site-packages/*"
    )
    assert csvs.stdout.split() == []


@pytest.mark.full
def test_image_holds_only_what_its_runtime_needs(container: Container) -> None:
    """The ONNX image: no scikit-learn, SciPy, pandas or joblib; the scikit-learn image has them all."""
    probe = "import importlib.util, sys; print(*[m for m in sys.argv[1:] if importlib.util.find_spec(m)])"
    found = podman("exec", container.name, "python", "-c", probe, *SKLEARN_ONLY, "onnxruntime").stdout.split()
    expected = ["onnxruntime"] if container.runtime == "onnx" else [*SKLEARN_ONLY, "onnxruntime"]
    assert found == expected
    assert "pip" not in podman("exec", container.name, "ls", "/opt/venv/bin").stdout.split()


@pytest.mark.full
def test_make_push_image_pushes_the_built_tag(image: Image, tmp_path: Path) -> None:
    # No registry here: push to an archive destination through the same target and the same tag.
    archive = tmp_path / "image.tar"
    run(
        ["make", "push-image", f"CONTAINER={' '.join(PODMAN)}", f"PUSH_TO=oci-archive:{archive}"],
        cwd=image.project,
        timeout=1200,
    )
    assert archive.stat().st_size > 10_000_000
