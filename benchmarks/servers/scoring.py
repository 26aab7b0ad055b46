"""The served model's own scoring time in-process (medians of repeats): the floor under a request.

Run from the generated project with its interpreter; the records come as JSON on stdin. Times
the model call with its input and output conversion (`predict`) and the same plus the rendering
of the /predict answer (`answer`), for one record and for all of them. Prints one JSON object.
"""

import json
import statistics
import sys
import time

from api.main import create_app

model = create_app().state.model  # exactly what /predict scores with
records = json.loads(sys.stdin.read())


def median_seconds(call, batch, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call(batch)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


print(
    json.dumps(
        {
            "runtime": model.runtime,
            "one": median_seconds(model.predict, records[:1], 2000),
            "batch": median_seconds(model.predict, records, 50),
            "batch_answer": median_seconds(model.answer, records, 50),
        }
    )
)
