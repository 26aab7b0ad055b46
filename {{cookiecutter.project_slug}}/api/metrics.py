"""The Prometheus metrics the API exposes at /metrics (METRICS=false turns them off).

Each app has its own registry, so apps built side by side (tests) count apart. With several
workers, `python -m api` sets PROMETHEUS_MULTIPROC_DIR before any worker starts: every worker then
writes its counts to files there, and /metrics adds up the files of all workers, whichever worker
answers the scrape.
"""

from __future__ import annotations

import os

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from api.model import ServedModel

# Labels take values from bounded sets only: a scan of random URLs or methods must not create a
# new series per request.
UNMATCHED = "<unmatched>"  # the route label of a request no route matched (404)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# From a millisecond (an ONNX prediction) to ten seconds (a large batch on scikit-learn).
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def multiprocess_dir() -> str | None:
    """The directory the workers share their counts in, when running multiprocess."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


class Metrics:
    """The app's metrics, and the text /metrics answers."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "http_requests",
            "HTTP requests answered, by method, route template and status code.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "http_request_duration_seconds",
            "Time from receiving a request to the end of its answer, by method and route template.",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.predictions = Counter(
            "model_predictions",
            "Records scored by /predict (a batch of n records counts n).",
            registry=self.registry,
        )
        # The label takes the model's categorical feature names only: a bounded set.
        self.unseen_categories = Counter(
            "model_unseen_categories",
            "Records scored by /predict whose categorical feature held a value never seen in"
            " training (answered anyway), by feature.",
            ["feature"],
            registry=self.registry,
        )
        self._unseen_series: dict[str, Counter] = {}
        # A gauge rather than an Info metric: Info does not work in multiprocess mode. "max" shows
        # one series for all workers instead of one per worker.
        self.model_info = Gauge(
            "model_info",
            "The model being served (value 1): name, registered version and runtime.",
            ["name", "version", "runtime"],
            registry=self.registry,
            multiprocess_mode="max",
        )
        # (method, route, status) -> the two series it updates: .labels() costs a lock and a lookup.
        self._series: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}
        directory = multiprocess_dir()
        if directory is None:
            self.exposed = self.registry
        else:
            self.exposed = CollectorRegistry()
            MultiProcessCollector(self.exposed, path=directory)

    def serving(self, model: ServedModel) -> None:
        version = model.meta.model_version or ""
        self.model_info.labels(model.meta.model_name, version, model.runtime).set(1)
        # One series per checked feature from the start: a count of 0 is news too.
        for feature in model.checked_categories:
            self._unseen_series[feature] = self.unseen_categories.labels(feature)

    def scored(self, records: int, unseen: dict[str, int]) -> None:
        """Count the records one /predict answer scored, and its unseen categories per feature."""
        self.predictions.inc(records)
        for feature, count in unseen.items():
            series = self._unseen_series.get(feature)
            if series is None:
                series = self._unseen_series[feature] = self.unseen_categories.labels(feature)
            series.inc(count)

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one answered request and its duration."""
        key = (method if method in METHODS else "other", route, status)
        series = self._series.get(key)
        if series is None:
            series = (
                self.requests.labels(key[0], route, str(status)),
                self.latency.labels(key[0], route),
            )
            self._series[key] = series
        count, latency = series
        count.inc()
        latency.observe(seconds)

    def render(self) -> bytes:
        """The Prometheus text exposition of every metric (of every worker, multiprocess)."""
        return generate_latest(self.exposed)
