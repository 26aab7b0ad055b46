"""Categories the model never saw in training: answered, and said so in the answer (per record),
in the access log line and in /metrics (per feature), on both runtimes. Category text is normalised
as the data config chose (data.normalize_categories), the same in training, serving and batch."""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest
import support
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from support import SavedModel, settings_for

from {{ cookiecutter.module_name }}.predict import model_inputs, unseen_categories
from {{ cookiecutter.module_name }}.utils.kinds import CategoryRule

from api.logs import JSONFormatter
from api.main import create_app


def client_for(saved: SavedModel, runtime: str, tmp_path_factory) -> TestClient:
    model_dir = saved.model_dir
    if runtime == "scikit-learn":  # the same model without its export
        model_dir = shutil.copytree(model_dir, tmp_path_factory.mktemp("no-onnx") / "models")
        (model_dir / "model.onnx").unlink()
    return TestClient(
        create_app(settings_for(model_dir, max_batch_size=50, max_body_bytes=100_000))
    )


@pytest.fixture(params=["onnx", "scikit-learn"])
def mixed(
    request: pytest.FixtureRequest, mixed_model: SavedModel, tmp_path_factory
) -> Iterator[TestClient]:
    """A fresh app per test (its own metrics), on each runtime."""
    with client_for(mixed_model, request.param, tmp_path_factory) as client:
        assert client.get("/metadata").json()["runtime"] == request.param
        yield client


def unseen_counts(client: TestClient) -> dict[str, float]:
    families = text_string_to_metric_families(client.get("/metrics").text)
    return {
        sample.labels["feature"]: sample.value
        for family in families
        for sample in family.samples
        if sample.name == "model_unseen_categories_total"
    }


def records_of(saved: SavedModel) -> list[dict]:
    return json.loads(saved.sample.to_json(orient="records"))


def test_the_answer_names_the_unseen_fields_of_each_record(
    mixed: TestClient, mixed_model: SavedModel
) -> None:
    seen = {**records_of(mixed_model)[0], "city": "Paris", "grade": 2}
    records = [
        seen,
        {**seen, "city": "Marseille"},
        {**seen, "city": "Marseille", "grade": 7},
        {**seen, "city": None},  # missing is not unseen: the model imputes it
    ]
    response = mixed.post("/predict", json={"records": records})
    assert response.status_code == 200, response.text
    assert response.json()["unseen"] == [[], ["city"], ["city", "grade"], []]
    frame = pd.DataFrame(records)
    expected = mixed_model.estimator.predict(model_inputs(mixed_model.meta, frame))
    assert response.json()["predictions"] == expected.tolist()


def test_metrics_count_unseen_categories_per_feature(
    mixed: TestClient, mixed_model: SavedModel
) -> None:
    assert unseen_counts(mixed) == {"city": 0, "member": 0, "grade": 0}
    seen = {**records_of(mixed_model)[0], "city": "Paris", "grade": 2}
    mixed.post("/predict", json={"records": [{**seen, "city": "Rome"}, {**seen, "city": "Oslo"}]})
    mixed.post("/predict", json={"records": [{**seen, "grade": 9}, seen]})
    mixed.post("/predict", json={"records": [{**seen, "city": 3}]})  # refused: counts nothing
    assert unseen_counts(mixed) == {"city": 2, "member": 0, "grade": 1}


def test_the_access_log_line_says_which_features_held_unseen_categories(
    mixed: TestClient, mixed_model: SavedModel, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="api.access")
    seen = {**records_of(mixed_model)[0], "city": "Paris", "grade": 2}
    mixed.post("/predict", json={"records": [seen]})
    mixed.post("/predict", json={"records": [{**seen, "city": "Rome"}, {**seen, "grade": 5}]})
    lines = [r for r in caplog.records if r.name == "api.access" and "/predict" in r.getMessage()]
    assert len(lines) == 2
    assert "unseen" not in lines[0].getMessage() and not hasattr(lines[0], "unseen")
    assert lines[1].getMessage().endswith(' unseen={"city": 1, "grade": 1}')
    assert json.loads(JSONFormatter().format(lines[1]))["unseen"] == {"city": 1, "grade": 1}


def test_the_batch_command_counts_unseen_categories(mixed_model: SavedModel) -> None:
    rows = mixed_model.sample.assign(city=["Rome", "Paris", None, "Oslo", *["Nice"] * 4])
    inputs = model_inputs(mixed_model.meta, rows)
    assert unseen_categories(mixed_model.meta, inputs) == {"city": 2}


# --- normalisation: the same rule in training, serving and batch ---------------------------------

CITIES = ["Paris", "Lyon", "Nice"]
# (rule, what " Paris ", "paris" and "PARIS" are to a model trained on "Paris")
RULES = {
    "strip-keep": (CategoryRule(strip=True, case="keep"), ["Paris", None, None]),
    "strip-lower": (CategoryRule(strip=True, case="lower"), ["Paris", "Paris", "Paris"]),
    "exact": (CategoryRule(), [None, None, None]),
}


def city_frame(rows: int = 300) -> pd.DataFrame:
    """The city decides the class; a little noise elsewhere."""
    rng = np.random.default_rng(2)
    city = rng.choice(CITIES, rows)
    return pd.DataFrame(
        {
            "city": city.astype(object),
            "noise": rng.normal(size=rows).round(3),
            "label": np.where(city == "Paris", "capital", "other"),
        }
    )


@pytest.mark.parametrize("runtime", ["onnx", "scikit-learn"])
@pytest.mark.parametrize("rule_name", list(RULES))
def test_case_and_spaces_follow_the_rule_recorded_with_the_model(
    tmp_path_factory: pytest.TempPathFactory, rule_name: str, runtime: str
) -> None:
    rule, meaning = RULES[rule_name]
    saved = support.save_pipeline(
        tmp_path_factory.mktemp(rule_name), city_frame(), "label", categories=rule
    )
    assert saved.meta.onnx_parity is not None
    spellings = [" Paris ", "paris", "PARIS"]
    records = [{"city": city, "noise": 0.0} for city in ["Paris", "Marseille", *spellings]]
    with client_for(saved, runtime, tmp_path_factory) as client:
        metadata = client.get("/metadata").json()
        body = client.post("/predict", json={"records": records}).json()
    assert metadata["runtime"] == runtime
    assert metadata["normalize_categories"] == {"strip": rule.strip, "case": rule.case}
    paris, unseen, *answers = body["probabilities"]
    for spelling, means, answer, flagged in zip(
        spellings, meaning, answers, body["unseen"][2:], strict=True
    ):
        if means == "Paris":  # normalised to a category seen in training: answered as Paris
            assert answer == pytest.approx(paris, abs=1e-6) and flagged == [], spelling
        else:  # another category: flagged, and answered as any unseen one
            assert answer == pytest.approx(unseen, abs=1e-6) and flagged == ["city"], spelling
    # The batch command applies the recorded rule too.
    frame = pd.DataFrame(records)
    expected = saved.estimator.predict_proba(model_inputs(saved.meta, frame))
    assert np.abs(np.array(body["probabilities"]) - expected).max() <= 1e-5
