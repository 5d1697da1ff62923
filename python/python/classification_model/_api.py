"""The Python API over the native scorer: inputs by type, answers in kind.

Every rule (which values a field takes, the pipeline, explanations) is the
Rust crate's; this module only hands data over and shapes the answer.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any, Union

import pandas as pd
import pyarrow as pa

from . import _native
from ._native import ValidationError

Records = Iterable[Mapping[str, Any]]
Data = Union[pd.DataFrame, pa.Table, pa.RecordBatch, Mapping[str, Any], Records]


def model_version() -> str:
    """The version of the model this package carries (its ``VERSION``)."""
    return _native.model_version()


def fields() -> list[dict[str, Any]]:
    """The input fields and their rules, in the dataset's column order, as
    the API's ``/model`` lists them: ``name``, ``type`` (integer, number or
    string), ``required``, ``allowed_values``, ``minimum``, ``maximum``,
    ``description`` and ``explained_as`` (the feature its explanation is
    reported under)."""
    return json.loads(_native.fields_json())


# The dataset's columns the model reads none of (the crate's lists): a
# DataFrame's such columns are named to the scorer but not converted.
_UNREAD = frozenset(_native.column_names()) - {f["name"] for f in fields()}


def model_card() -> dict[str, Any]:
    """What the model is and how it was made: name, version, format
    revision, training configuration, training data (rows and SHA-256) and
    metrics (train, test and cross-validation)."""
    return json.loads(_native.model_card_json())


def predict_arrow(
    batch: pa.RecordBatch | pa.Table, *, explain: bool = False, threshold: float = 0.5
) -> pa.RecordBatch:
    """Scores an Arrow record batch (or table), reading its columns in place.

    Columns are named as in the dataset; numbers may be any integer or float
    type, text any string type (or a dictionary of strings). Nulls and NaN
    are missing values.

    Returns a record batch with ``probability`` (float64) and ``prediction``
    (uint8: 1 above ``threshold``) per row and, with ``explain``,
    ``baseline`` and one ``contribution_<feature>`` column per feature, which
    sum to the log-odds of the probability.

    Raises :class:`ValidationError` listing every invalid row and field (or
    column) and scores nothing.
    """
    if isinstance(batch, pa.Table):
        return _native.predict_columns(
            batch.column_names,
            [c.combine_chunks() for c in batch.columns],
            batch.num_rows,
            explain=explain,
            threshold=threshold,
        )
    return _native.predict_arrow(batch, explain=explain, threshold=threshold)


def predict(data: Data, *, explain: bool = False, threshold: float = 0.5) -> Any:
    """Scores passengers: a pandas DataFrame, a ``pyarrow.Table`` or
    ``RecordBatch``, a list of dicts (records) or a dict of columns.

    Returns a DataFrame (with the input's index, for a DataFrame), or an
    Arrow table or batch for Arrow input, with the columns of
    :func:`predict_arrow`.

    Values may come as text, numbers, ``None``, NaN or ``pandas.NA``; the
    same value gives the same outcome however it comes, and as it would
    over the API.
    """
    batch = _score(data, explain, threshold)
    if isinstance(data, pa.RecordBatch):
        return batch
    if isinstance(data, pa.Table):
        return pa.Table.from_batches([batch])
    out = batch.to_pandas()
    if isinstance(data, pd.DataFrame):
        out.index = data.index
    return out


def _score(data: Data, explain: bool, threshold: float) -> pa.RecordBatch:
    """The scores of any accepted input, as a record batch."""
    if isinstance(data, (pa.RecordBatch, pa.Table)):
        return predict_arrow(data, explain=explain, threshold=threshold)
    if isinstance(data, pd.DataFrame):
        return _score_frame(data, explain, threshold)
    if isinstance(data, Mapping):
        return _score_mapping(data, explain, threshold)
    if isinstance(data, (str, bytes)) or not isinstance(data, Iterable):
        raise TypeError(
            "expected a pandas DataFrame, a pyarrow Table or RecordBatch, "
            f"a list of dicts or a dict of columns, got {type(data).__name__}"
        )
    return _native.predict_records(data, explain=explain, threshold=threshold)


def _score_frame(df: pd.DataFrame, explain: bool, threshold: float) -> pa.RecordBatch:
    names = [str(name) for name in df.columns]
    # pandas' own accessor gives a column's values without building a Series
    # for it (a tenth of a 1309-row call); a pandas without it, the Series'
    get = getattr(df, "_get_column_array", None) or (lambda i: df.iloc[:, i].array)
    # by position: a name may repeat, which the scorer reports
    columns = [
        pa.nulls(len(df)) if name in _UNREAD else _column(get(i)) for i, name in enumerate(names)
    ]
    return _native.predict_columns(names, columns, len(df), explain=explain, threshold=threshold)


def _column(values: Any) -> Any:
    """A pandas column's values (a NumPy array or a pandas extension array)
    as an Arrow array where Arrow can type them (NaN and ``pandas.NA`` as
    nulls), else as Python values (mixed text and numbers, say), which the
    native side reads one by one."""
    if hasattr(values, "__arrow_array__"):
        # Arrow-backed (pandas' str, ArrowDtype) or masked (Int64, Float64):
        # the values as they are, their missing ones as nulls
        array = values.__arrow_array__()
        return array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array
    try:
        return pa.array(values, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return values.tolist() if hasattr(values, "tolist") else list(values)


def _score_mapping(data: Mapping[str, Any], explain: bool, threshold: float) -> pa.RecordBatch:
    """A dict of columns, as ``pandas.DataFrame(data)`` reads it; a dict of
    single values is one record."""
    values = list(data.values())
    if not any(isinstance(v, (list, tuple, pd.Series, pa.Array)) for v in values):
        return _native.predict_records([data], explain=explain, threshold=threshold)
    return _score_frame(pd.DataFrame(data), explain, threshold)


def make_prediction(*, input_data: Data) -> dict[str, Any]:
    """The course's call: predictions for ``input_data`` (a DataFrame, a
    list of dicts, a dict of columns, or Arrow data).

    Returns ``{"predictions": [0 or 1, ...], "probabilities": [...],
    "version": ..., "errors": None}``; when a row is invalid, nothing is
    predicted: ``predictions`` and ``probabilities`` are None and ``errors``
    lists every row and field, in the API's words.
    """
    try:
        scored = _score(input_data, False, 0.5)
    except ValidationError as e:
        return {
            "predictions": None,
            "probabilities": None,
            "version": model_version(),
            "errors": e.errors,
        }
    return {
        "predictions": scored.column("prediction").to_pylist(),
        "probabilities": scored.column("probability").to_pylist(),
        "version": model_version(),
        "errors": None,
    }

