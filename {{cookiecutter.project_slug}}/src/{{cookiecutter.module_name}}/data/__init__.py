"""The data stage's functions: read the source table, infer and check its columns, split it."""

from .convert import as_categories, as_dates, as_numbers, with_missing
from .infer import date_format, infer_kind, is_booleans, json_type, resolve_task
from .prepare import drop_missing_targets, feature_columns, prepare, prepare_data
from .read import load_source, read_csv_in_chunks, table_format
from .schema import TableSchema, load_schema, schema_json
from .screen import identifier_reason
from .split import read_split, split, split_rows, take

__all__ = [
    "TableSchema",
    "as_categories",
    "as_dates",
    "as_numbers",
    "date_format",
    "drop_missing_targets",
    "feature_columns",
    "identifier_reason",
    "infer_kind",
    "is_booleans",
    "json_type",
    "load_schema",
    "load_source",
    "prepare",
    "prepare_data",
    "read_csv_in_chunks",
    "read_split",
    "resolve_task",
    "schema_json",
    "split",
    "split_rows",
    "table_format",
    "take",
    "with_missing",
]
