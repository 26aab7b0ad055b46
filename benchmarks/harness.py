"""Measuring HTTP servers from outside: start one in its own process group and time its cold start,
load it with wrk (Debian's `wrk`, a bounded load on loopback), read its CPU time from /proc over its
whole process tree, stop it and every worker it left. Used by bench_serving.py; a server that cannot
be started or measured raises Unavailable, and its row in the table says why.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

WRK_SCRIPT = Path(__file__).resolve().parent / "wrk_post.lua"
# Every request to every server carries this key (the generated API's API_KEYS; others ignore it).
API_KEY = secrets.token_urlsafe(32)
AUTHORIZATION = f"Bearer {API_KEY}"


class Unavailable(Exception):
    """A server that cannot be installed, started or measured here: its row says why."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def call(port: int, path: str, body: bytes | None = None, timeout: float = 5) -> int:
    """The status of a GET (no body) or a JSON POST, with the API key."""
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=body)
    request.add_header("Content-Type", "application/json")
    request.add_header("Authorization", AUTHORIZATION)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def output_of(log: IO[bytes]) -> str:
    """The end of a server's output, for the reason in its row."""
    log.seek(0)
    return log.read().decode(errors="replace").strip()[-1500:]


def start(server: Server, env: dict[str, str]) -> tuple[subprocess.Popen, float]:
    """Start a server; return (process, seconds from start to its first 200 on its ready path).

    Then wait for its first 200 on /predict (or its equivalent): a ready server may still warm up.
    """
    log = tempfile.TemporaryFile()  # noqa: SIM115 (read on failure; a pipe nobody reads could stall the server)
    command = [part.replace("{port}", str(server.port)) for part in server.command]
    started = time.perf_counter()
    try:
        process = subprocess.Popen(
            command, cwd=server.cwd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    except OSError as error:
        raise Unavailable(f"cannot start {command[0]}: {error}") from error
    deadline = started + 180
    cold = None
    while time.perf_counter() < deadline:
        if process.poll() is not None:
            raise Unavailable(f"{Path(command[0]).name} exited with status {process.returncode}: {output_of(log)}")
        try:
            if cold is None and call(server.port, server.ready, timeout=2) == 200:
                cold = time.perf_counter() - started
            if cold is not None:
                status = call(server.port, server.path, server.single, timeout=10)
                if status == 200:
                    return process, cold
                if status not in (404, 503):  # not a server still loading its model: a wrong request
                    stop(process)
                    raise Unavailable(f"{server.path} answered {status} to a valid record: {output_of(log)}")
        except OSError:
            pass
        time.sleep(0.01)
    stop(process)
    raise Unavailable(f"did not answer {server.ready} and {server.path} within 180 s: {output_of(log)}")


def stop(process: subprocess.Popen) -> None:
    tree = process_tree(process.pid)
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    for pid, fields in tree.items():  # workers a supervisor left behind (in its process group or not)
        with contextlib.suppress(OSError, IndexError):
            # The same process (same start time), not a new one that got its pid.
            if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19] == fields[19]:
                os.kill(pid, signal.SIGKILL)


def wrk(port: int, path: str, body: bytes, duration: int, connections: int) -> dict[str, float]:
    """Requests/s and p50/p99 latency (ms) under a bounded load: `connections` for `duration` s."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as body_file:
        body_file.write(body)
    url = f"http://127.0.0.1:{port}{path}"
    env = {**os.environ, "WRK_BODY_FILE": body_file.name, "WRK_AUTHORIZATION": AUTHORIZATION}
    try:
        output = subprocess.run(
            ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency", "-s", str(WRK_SCRIPT), url],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=duration + 60,
        ).stdout
    except subprocess.CalledProcessError as error:
        raise Unavailable(f"wrk failed on {path}: {error.stderr.strip()[-600:]}") from error
    finally:
        os.unlink(body_file.name)
    if "Non-2xx" in output:
        raise Unavailable(f"non-2xx answers under load on {path}: {output.strip()[-600:]}")

    def latency_ms(percentile: str) -> float:
        value, unit = re.search(rf"^\s+{percentile}%\s+([\d.]+)(us|ms|s)\s*$", output, re.M).groups()
        return float(value) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[unit]

    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    return {"rps": rate, "p50": latency_ms("50"), "p99": latency_ms("99"), "requests": requests}


def process_tree(root: int) -> dict[int, list[str]]:
    """The /proc/<pid>/stat fields (after "pid (command)") of root and all its live descendants.

    By parentage, not process group: a supervisor's workers may start sessions of their own.
    """
    stats = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            stats[int(stat.parent.name)] = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # the process ended meanwhile
    tree, parents = {}, {root}
    while parents:
        tree |= {pid: stats[pid] for pid in parents if pid in stats}
        parents = {pid for pid, fields in stats.items() if int(fields[1]) in parents and pid not in tree}
    return tree


def cpu_seconds(root: int) -> float:
    """CPU time (user + system) used so far by a server's live processes (Linux /proc).

    Per request, it is the server's own cost, whether or not wrk (on the same cores) is what limits
    the request rate.
    """
    ticks = sum(int(fields[11]) + int(fields[12]) for fields in process_tree(root).values())  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


@dataclass
class Server:
    """One server under test, and what was measured on it (or why it could not be)."""

    name: str
    command: list[str]
    cwd: Path
    env: dict[str, str]
    path: str  # where it predicts (POST)
    ready: str  # where it says it is ready (GET): the cold start ends at its first 200 there
    single: bytes  # one record
    batch: bytes | None = None  # 1,000 records; when given, one-connection latencies are measured
    runtime: str | None = None  # for the generated API: the runtime /metadata must report
    ours: bool = False  # the generated API: a failure stops the benchmark instead of filling a row
    unavailable: str | None = None  # why there are no figures
    process: subprocess.Popen | None = None
    port: int = 0
    cold: float = 0.0
    rounds: list[dict[str, float]] = field(default_factory=list)

    def launch(self, env: dict[str, str]) -> None:
        if self.unavailable is not None:
            return
        self.port = free_port()
        env = {**os.environ, **env, **self.env, "PORT": str(self.port)}
        env = {key: value.replace("{port}", str(self.port)) for key, value in env.items()}
        try:
            self.process, self.cold = start(self, env)
        except Unavailable as error:
            self.fail(error)
            return
        if self.runtime is not None:  # a row must measure what its name says
            url = f"http://127.0.0.1:{self.port}/metadata"
            request = urllib.request.Request(url, headers={"Authorization": AUTHORIZATION})
            with urllib.request.urlopen(request, timeout=10) as response:
                runtime = json.loads(response.read())["runtime"]
            if runtime != self.runtime:
                sys.exit(f"{self.name}: the API serves {runtime}, not {self.runtime}")

    def fail(self, error: Unavailable) -> None:
        if self.ours:
            sys.exit(f"{self.name}: {error}")
        self.unavailable = " ".join(str(error).split())  # one line in the table
        if self.process is not None:
            stop(self.process)
            self.process = None

    def measure(self, duration: int, connections: int) -> None:
        if self.unavailable is not None:
            return
        root = self.process.pid
        try:
            cpu_before = cpu_seconds(root)
            figures = wrk(self.port, self.path, self.single, duration, connections)
            figures["cpu_us"] = (cpu_seconds(root) - cpu_before) / figures.pop("requests") * 1e6
            if self.batch is not None:
                figures["one_ms"] = wrk(self.port, self.path, self.single, duration, 1)["p50"]
                figures["batch_ms"] = wrk(self.port, self.path, self.batch, duration, 1)["p50"]
        except Unavailable as error:
            self.fail(error)
            return
        self.rounds.append(figures)

    def figures(self) -> dict[str, float] | None:
        """The median of each figure over the rounds, and the cold start; None when unavailable."""
        if self.unavailable is not None:
            return None
        keys = self.rounds[0].keys()
        return {"cold": self.cold} | {k: statistics.median(r[k] for r in self.rounds) for k in keys}
