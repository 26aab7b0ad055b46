"""Read the source table: a CSV or Parquet file, by path or URL."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from urllib.parse import urlparse

import pandas as pd

from ..params import is_url
from ..utils.errors import PipelineError, first_line

CSV_SUFFIXES = {".csv": ",", ".tsv": "\t", ".txt": None}
PARQUET_SUFFIXES = (".parquet", ".pq")
# A local CSV file this large is read in chunks, with a line per chunk saying how far it got.
LARGE_FILE_BYTES = 100 * 2**20
CHUNK_ROWS = 250_000
# The delimiters a CSV file may use, for the hint when a file reads as one merged column.
DELIMITERS = (",", ";", "\t", "|")


def table_format(source: str) -> str:
    suffix = Path(urlparse(source).path if is_url(source) else source).suffix.lower()
    if suffix in PARQUET_SUFFIXES:
        return "parquet"
    if suffix in CSV_SUFFIXES:
        return "csv"
    raise PipelineError(
        f"cannot tell the format of {source}: name a .csv, .tsv or .parquet file (data.source)."
    )


def load_source(source: str, delimiter: str | None = None) -> pd.DataFrame:
    """The table at data.source (a path relative to the project, or an http(s) URL).

    delimiter: a CSV file's (data.delimiter); None takes it from the suffix. A file whose header
    reads as one column holding another delimiter stops with a line saying which to declare.
    """
    if not is_url(source) and not Path(source).is_file():
        raise PipelineError(f"data file not found: {source} (set data.source in configs/data/).")
    kind = table_format(source)
    separator = delimiter or CSV_SUFFIXES.get(Path(urlparse(source).path).suffix.lower())
    try:
        if kind == "parquet":
            frame = pd.read_parquet(source)
        else:
            engine = "python" if separator is None else "c"
            if not is_url(source) and Path(source).stat().st_size >= LARGE_FILE_BYTES:
                frame = read_csv_in_chunks(Path(source), separator, engine)
            else:
                frame = pd.read_csv(source, sep=separator, engine=engine)
    except pd.errors.EmptyDataError as error:
        raise PipelineError(f"{source} is empty: the dataset has no header and no rows.") from error
    except (pd.errors.ParserError, UnicodeDecodeError) as error:
        hint = delimiter_hint(header_line(source), separator)
        raise PipelineError(
            f"{source} is not a readable CSV table: {first_line(error)}{hint}"
        ) from error
    except OSError as error:  # network errors from a URL land here too
        raise PipelineError(f"could not read {source}: {first_line(error)}") from error
    except Exception as error:  # pyarrow's errors for a file that is not Parquet
        raise PipelineError(
            f"{source} is not a readable {kind} table: {first_line(error)}"
        ) from error
    if kind == "csv" and len(frame.columns) == 1:
        hint = delimiter_hint(str(frame.columns[0]), separator)
        if hint:
            raise PipelineError(f"{source} reads as one column, {str(frame.columns[0])!r}{hint}")
    if frame.columns.duplicated().any():
        names = sorted(set(frame.columns[frame.columns.duplicated()].map(str)))
        raise PipelineError(f"{source} has duplicate column names: {', '.join(names)}.")
    frame.columns = frame.columns.map(str)
    return frame


def delimiter_hint(header: str, used: str | None) -> str:
    """When the header holds none of the delimiter used but another one: how to declare it."""
    if used is not None and used in header:
        return ""
    counts = {mark: header.count(mark) for mark in DELIMITERS if mark != used}
    likely = max(counts, key=lambda mark: counts[mark])
    if not counts[likely]:
        return ""
    return (
        f": its delimiter looks like {json.dumps(likely)}; declare it in the data config"
        f" (data.delimiter: {json.dumps(likely)})."
    )


def header_line(source: str) -> str:
    """The first line of a local file ("" for a URL or an unreadable file)."""
    if is_url(source):
        return ""
    try:
        with Path(source).open(encoding="utf-8", errors="replace") as handle:
            return handle.readline(64 * 1024)
    except OSError:
        return ""


def read_csv_in_chunks(path: Path, separator: str | None, engine: str) -> pd.DataFrame:
    """A large CSV file, read CHUNK_ROWS rows at a time, printing the rows read so far."""
    size = path.stat().st_size
    chunks = []
    rows = 0
    with path.open("rb") as handle:
        reader = pd.read_csv(handle, sep=separator, engine=engine, chunksize=CHUNK_ROWS)
        for chunk in reader:
            chunks.append(chunk)
            rows += len(chunk)
            done = min(100 * handle.tell() / size, 100)  # the parser reads ahead: an estimate
            print(
                f"data: {rows:,} rows read from {path} ({done:.0f} % of {size / 2**20:,.0f} MiB)",
                file=sys.stderr,
                flush=True,
            )
    if not chunks:  # a header without rows
        return pd.read_csv(path, sep=separator, engine=engine)
    return pd.concat(chunks, ignore_index=True)
