"""`python -m api` with the model's scoring replaced by its answer for one record (an ablation).

Run from the generated project with its interpreter. Everything else runs as in production:
uvicorn's settings, the middleware stack, the dependencies (API keys), validation, the conversion
of records to model inputs and the rendering of the answer; what is left is the API's own cost.
Only the app's public seams are used: `api.main.create_app` and the model it keeps in
`app.state.model` (what the `served_model` dependency hands to /predict).
"""

import dataclasses
import sys

import api.main
from api.__main__ import main

RECORD = {"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}
build = api.main.create_app


def create_stubbed_app(settings=None):
    app = build(settings)
    model = app.state.model
    labels, probabilities = model.predict([RECORD])  # the real answer, once

    def score(inputs):
        # ONNX: one (rows, 1) array per feature; scikit-learn: a DataFrame.
        rows = len(next(iter(inputs.values()))) if isinstance(inputs, dict) else len(inputs)
        return labels * rows, None if probabilities is None else probabilities * rows

    app.state.model = dataclasses.replace(model, score=score)
    return app


api.main.create_app = create_stubbed_app  # uvicorn looks the factory up by name: one worker
sys.exit(main())
