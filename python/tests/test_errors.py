"""Bad input: a ValidationError naming every row and field, or the column;
never a panic across the FFI boundary (which would abort Python)."""

from __future__ import annotations

import datetime
import decimal
import random

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import classification_model
from classification_model import ValidationError
from classification_model.predict import make_prediction

GOOD = {"pclass": 3, "sex": "male", "age": 22, "sibsp": 1, "parch": 0, "fare": 7.25}


def errors_of(data) -> list[dict]:
    with pytest.raises(ValidationError) as e:
        classification_model.predict(data)
    assert isinstance(e.value, ValueError)
    return e.value.errors


def test_every_row_and_field_is_listed(dataset):
    bad = dataset.copy()
    bad["pclass"] = bad["pclass"].astype(object)
    bad.loc[3, "pclass"] = 7
    bad.loc[1000, "pclass"] = "first"
    bad["sex"] = bad["sex"].astype(object)
    bad.loc[1000, "sex"] = "x"
    bad.loc[1308, "age"] = -1
    errors = errors_of(bad)
    assert [(e["row"], e["field"]) for e in errors] == [
        (3, "pclass"), (1000, "pclass"), (1000, "sex"), (1308, "age"),
    ]
    assert errors[0]["message"] == "must be 1, 2 or 3, got 7"
    result = make_prediction(input_data=bad)
    assert result["predictions"] is None and result["probabilities"] is None
    assert result["errors"] == errors


def test_rows_past_the_first_chunk_keep_their_numbers():
    rows = [dict(GOOD) for _ in range(5000)]
    rows[4321]["sibsp"] = 2.5
    table = pa.Table.from_pylist(rows)
    for data in (rows, pd.DataFrame(rows), table):
        assert [(e["row"], e["field"]) for e in errors_of(data)] == [(4321, "sibsp")]


def test_the_message_is_the_api_s():
    with pytest.raises(ValidationError) as e:
        classification_model.predict([dict(GOOD, sex="m")])
    assert str(e.value) == (
        'invalid input: 1 invalid field(s): row 0, field `sex`: '
        'must be "male" or "female" (any case), got "m"'
    )


def test_a_wrong_arrow_type_names_the_column():
    table = pa.table({
        "pclass": [3], "sex": ["male"], "sibsp": [0], "parch": [0],
        "age": pa.array([datetime.date(2000, 1, 1)]),
        "fare": pa.array([[1.0]]),
    })
    errors = errors_of(table)
    assert [(e["row"], e["field"]) for e in errors] == [(None, "age"), (None, "fare")]
    assert "Date32" in errors[0]["message"] and "no field takes" in errors[0]["message"]


def test_columns_unknown_missing_or_repeated():
    errors = errors_of(pa.table({"pclass": [1], "Sex": ["male"], "sibsp": [0], "parch": [0]}))
    assert [(e["row"], e["field"]) for e in errors] == [(None, "Sex"), (None, "sex")]
    assert "unknown field \"Sex\"" in errors[0]["message"]
    assert "it is required" in errors[1]["message"]
    twice = pd.DataFrame([[1, "male", 0, 0, 0]], columns=["pclass", "sex", "sibsp", "parch", "parch"])
    assert [e["field"] for e in errors_of(twice)] == ["parch"]


def test_records_name_their_row():
    errors = errors_of([GOOD, dict(GOOD, Age=3), "not a record", {**GOOD, "pclass": True}])
    assert [(e["row"], e["field"]) for e in errors] == [(1, "Age"), (2, "record")]
    errors = errors_of([GOOD, {**GOOD, "pclass": True}, {"sex": "male"}])
    assert [(e["row"], e["field"]) for e in errors] == [
        (1, "pclass"), (2, "pclass"), (2, "sibsp"), (2, "parch"),
    ]
    assert "got a boolean" in errors[0]["message"]
    assert "is required" in errors[1]["message"]


def test_other_wrong_arguments():
    with pytest.raises(ValueError, match="threshold"):
        classification_model.predict([GOOD], threshold=1.5)
    with pytest.raises(ValueError, match="threshold"):
        classification_model.predict([GOOD], threshold=float("nan"))
    with pytest.raises(TypeError):
        classification_model.predict("pclass,sex\n1,male")
    with pytest.raises(TypeError):
        classification_model.predict(42)
    with pytest.raises(TypeError):
        classification_model.predict_arrow([GOOD])


ODD_VALUES = [
    None, True, False, 0, -1, 2**70, -(2**70), 1.5, -0.0, float("inf"), float("-inf"),
    float("nan"), "", "?", " ", "\x00", "é" * 100, "1" * 400, "\ud800", b"bytes", [], [1], {},
    {"a": 1}, (), object(), decimal.Decimal("1.5"), datetime.date(2000, 1, 1), pd.NA, pd.NaT,
    np.int64(2), np.float32(1.5), np.bool_(True), np.nan, complex(1, 2), range(3),
]


def test_odd_values_never_panic():
    """Random records of odd values: each call answers or raises a
    ValidationError (a panic would surface as pyo3's PanicException, a
    BaseException, and fail the test)."""
    rng = random.Random(0)
    names = [f["name"] for f in classification_model.fields()] + ["ticket", "x"]
    answered = refused = 0
    for _ in range(300):
        record = {n: rng.choice(ODD_VALUES) for n in rng.sample(names, rng.randint(0, len(names)))}
        for data in ([record], [dict(GOOD, **{k: v for k, v in record.items() if k != "x"})]):
            try:
                classification_model.predict(data, explain=True)
                answered += 1
            except ValidationError as e:
                assert e.errors
                refused += 1
    assert answered > 0 and refused > 0


def test_odd_arrow_columns_never_panic():
    columns = {
        "int8": pa.array([3, None], pa.int8()),
        "uint64": pa.array([2**64 - 1, 1], pa.uint64()),
        "float16": pa.array([np.float16(1.5), None], pa.float16()),
        "large_string": pa.array(["3", None], pa.large_string()),
        "string_view": pa.array(["1", "x"], pa.string_view()),
        "dictionary": pa.array(["male", None]).dictionary_encode(),
        "null": pa.nulls(2),
        "bool": pa.array([True, None]),
        "binary": pa.array([b"1", b"2"]),
        "list": pa.array([[1], [2]]),
        "struct": pa.array([{"a": 1}, {"a": 2}]),
        "decimal": pa.array([decimal.Decimal("1.5"), None]),
        "timestamp": pa.array([datetime.datetime(2000, 1, 1), None]),
    }
    for name, column in columns.items():
        for field in ("pclass", "sex", "age", "name"):
            base = {k: pa.array([v, v]) for k, v in GOOD.items() if k != field}
            table = pa.table({**base, field: column})
            try:
                out = classification_model.predict(table)
                assert out.num_rows == 2, (name, field)
            except ValidationError as e:
                assert all(err["field"] == field for err in e.errors), (name, field, e.errors)
