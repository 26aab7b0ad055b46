"""BentoML serving the pipeline's models/model.joblib: `bentoml serve bento_service:Classifier`.

Run by benchmarks/bench_serving.py in a virtual environment of its own (BentoML, and the
scikit-learn version the project trained with), with BENCH_MODEL_FILE naming the model file.
It answers what the generated API answers: a prediction and the class probabilities per record.
"""

import os

import bentoml
import joblib
import pandas as pd


@bentoml.service(workers=1)  # one worker, as every server in the benchmark
class Classifier:
    def __init__(self) -> None:
        self.model = joblib.load(os.environ["BENCH_MODEL_FILE"])

    @bentoml.api
    def predict(self, records: list[dict[str, float]]) -> dict:
        frame = pd.DataFrame.from_records(records)
        return {
            "predictions": self.model.predict(frame).tolist(),
            "classes": [str(label) for label in self.model.classes_],
            "probabilities": self.model.predict_proba(frame).tolist(),
        }
