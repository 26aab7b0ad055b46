"""Whether the MLflow tracking server answers, asked in seconds before anything depends on it.

Left to itself, MLflow retries a request to a server that does not answer for minutes (7 retries,
exponential back-off, 120 s per attempt), then fails with a chain of tracebacks. So, before a
training, a sweep, `make compare` or the API touches a tracking server, one request with a short
timeout asks whether it answers at all; if not, one line says which server did not answer. MLflow's
own retries are bounded too (HTTP_DEFAULTS, which .env or the environment may override).

Only stdlib here: the check runs before mlflow (seconds to import) is loaded.
"""

from __future__ import annotations

import os
import socket
import ssl
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from ..utils.errors import PipelineError

DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"

# MLflow's HTTP client settings (its names, read from the environment at every request). MLflow's
# defaults wait minutes on a server that is down; these apply unless .env or the environment sets
# them (.env.template lists them).
HTTP_DEFAULTS = {
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "20",
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
}
# Seconds the check waits for the server to answer (any HTTP answer counts: it is up).
CHECK_TIMEOUT_S = 3.0
# Database back-ends the client connects to itself (MLflow without a server): a TCP check only.
DATABASE_PORTS = {"postgresql": 5432, "mysql": 3306, "mssql": 1433}

_answered: set[str] = set()  # URIs that answered in this process: asked once per process


class TrackingServerDown(PipelineError):
    """The tracking server did not answer; the message names it and what to do."""


def tracking_uri() -> str:
    """MLFLOW_TRACKING_URI from the environment or .env, else the sqlite store.

    The one place the setting is read (.env also sets MLflow's other settings, such as its
    timeouts, for this process).
    """
    from dotenv import load_dotenv

    load_dotenv(Path(".env"), override=False)
    return os.environ.get("MLFLOW_TRACKING_URI") or DEFAULT_TRACKING_URI


def check_tracking_store() -> str:
    """The tracking URI, once its server answers, with MLflow's retries bounded;
    TrackingServerDown, one line naming the server, when it does not answer."""
    uri = tracking_uri()
    bound_http_retries()
    check_tracking_server(uri)
    return uri


def check_before_training() -> None:
    """check_tracking_store() for a training: its line says that nothing changed."""
    try:
        check_tracking_store()
    except TrackingServerDown as error:
        raise TrackingServerDown(f"{error} Nothing was trained or changed.") from error


def bound_http_retries() -> None:
    """Apply HTTP_DEFAULTS to the MLflow settings that are not set."""
    for name, value in HTTP_DEFAULTS.items():
        os.environ.setdefault(name, value)


def shown(uri: str) -> str:
    """The URI without a password, for messages."""
    parts = urlsplit(uri)
    if parts.password is None:
        return uri
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def check_tracking_server(uri: str, timeout_s: float | None = None, *, cached: bool = True) -> None:
    """Return when the tracking store at uri answers (or is local); TrackingServerDown when not.

    An http(s) server must send any HTTP answer to GET <uri>/health within timeout_s; a database
    must accept a connection. Local stores (sqlite, files) are not checked. A server that answered
    once is not asked again in this process, unless cached is False.
    """
    scheme = urlsplit(uri).scheme.split("+")[0].lower()
    if (cached and uri in _answered) or scheme not in ("http", "https", *DATABASE_PORTS):
        return
    timeout_s = CHECK_TIMEOUT_S if timeout_s is None else timeout_s
    if scheme in ("http", "https"):
        problem = http_problem(uri, timeout_s)
    else:
        problem = tcp_problem(uri, DATABASE_PORTS[scheme], timeout_s)
    if problem is not None:
        raise TrackingServerDown(
            f"the MLflow tracking server at {shown(uri)} did not answer ({problem}): start it, or"
            " point MLFLOW_TRACKING_URI (.env) at one that runs."
        )
    _answered.add(uri)


def http_problem(uri: str, timeout_s: float) -> str | None:
    """Why GET <uri>/health got no HTTP answer within timeout_s, or None when it got one."""
    # Any answer will do, so the certificate is not checked here (MLflow checks it on every call);
    # no credentials are sent. Proxies from the environment apply, as they do for MLflow.
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    request = urllib.request.Request(uri.rstrip("/") + "/health", method="GET")
    try:
        with urllib.request.urlopen(request, timeout=timeout_s, context=context):
            return None
    except urllib.error.HTTPError:
        return None  # 401, 404, 503...: an answer; MLflow's own calls say what it means
    except urllib.error.URLError as error:
        return reason_of(error.reason, timeout_s)
    except (OSError, ValueError) as error:  # a timeout while reading, a malformed answer or URI
        return reason_of(error, timeout_s)


def tcp_problem(uri: str, default_port: int, timeout_s: float) -> str | None:
    """Why a TCP connection to the database in uri failed within timeout_s, or None."""
    parts = urlsplit(uri)
    try:
        address = (parts.hostname or "localhost", parts.port or default_port)
        with socket.create_connection(address, timeout_s):
            return None
    except OSError as error:
        return reason_of(error, timeout_s)


def reason_of(error: object, timeout_s: float) -> str:
    if isinstance(error, TimeoutError):  # socket.timeout too
        return f"no answer within {timeout_s:g} s"
    if isinstance(error, ConnectionRefusedError):
        return "connection refused: nothing listens there"
    if isinstance(error, OSError) and error.strerror:
        return error.strerror.lower()
    return str(error) or type(error).__name__
