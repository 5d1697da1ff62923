"""Type stubs of the native module (Rust, PyO3)."""

from typing import Any, Iterable, Mapping, Sequence

import pyarrow as pa

class ValidationError(ValueError):
    """Invalid input: ``errors`` lists every problem as a dict with ``row``
    (0-based, or None for a whole column), ``field`` and ``message``."""

    errors: list[dict[str, Any]]

def predict_arrow(
    batch: pa.RecordBatch, *, explain: bool = False, threshold: float = 0.5
) -> pa.RecordBatch: ...
def predict_columns(
    names: Sequence[str],
    columns: Sequence[pa.Array | list[Any]],
    rows: int,
    *,
    explain: bool = False,
    threshold: float = 0.5,
) -> pa.RecordBatch: ...
def predict_records(
    records: Iterable[Mapping[str, Any]], *, explain: bool = False, threshold: float = 0.5
) -> pa.RecordBatch: ...
def model_version() -> str: ...
def fields_json() -> str: ...
def column_names() -> list[str]: ...
def model_card_json() -> str: ...
