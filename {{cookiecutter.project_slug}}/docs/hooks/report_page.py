"""A mkdocs hook (mkdocs.yml `hooks:`): the "Results report" page before there is a report.

`make report` writes docs/report.md (and its plots, docs/report/) for the model in your workspace;
git ignores them, as it does the model. Until then this hook adds a page in their place, so the
site builds (`make docs`, strict) the same way with a report and without one.
"""

from __future__ import annotations

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files

REPORT_PAGE = "report.md"
NO_REPORT_YET = """# Results report

No report yet. Train a model and write the report of it:

```bash
make repro    # the pipeline: data -> train -> evaluate
make report   # this page (docs/report.md, plots in docs/report/) and reports/report.html
```

`make docs` then builds the site with it. What the report shows: see
[Experiments](experiments.md#the-results-report).
"""


def on_files(files: Files, config: MkDocsConfig) -> Files:
    if files.get_file_from_path(REPORT_PAGE) is None:
        files.append(File.generated(config, REPORT_PAGE, content=NO_REPORT_YET))
    return files
