"""The text rules' table (shared with the Rust tests) gives the same outcome
in Python, whether a value comes as str, int, float, None, NaN or pd.NA, in
records, in a DataFrame or in Arrow."""

from __future__ import annotations

import json
import math

import pandas as pd
import pyarrow as pa
import pytest

import classification_model
from classification_model import ValidationError
from conftest import TEXT_RULES

CASES = json.loads(TEXT_RULES.read_text(encoding="utf-8"))["cases"]


def outcome(data):
    """The probability of the one row, or the field its error names."""
    try:
        out = classification_model.predict(data)
    except ValidationError as e:
        fields = {err["field"] for err in e.errors}
        assert len(fields) == 1, e.errors
        return ("refused", fields.pop())
    if isinstance(out, pa.Table):
        return ("accepted", out.column("probability")[0].as_py())
    return ("accepted", float(out["probability"].iloc[0]))


def forms(record: dict, field: str):
    """The record in each container: records, a DataFrame whose column
    holds the value as it is, and Arrow with the column typed by pyarrow."""
    yield "record", [record]
    yield "DataFrame", pd.DataFrame({k: pd.Series([v], dtype=object) for k, v in record.items()})
    value = record[field]
    if value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        value = None
    column = pa.array([value])
    arrays = [column if k == field else pa.array([v]) for k, v in record.items()]
    yield "Arrow", pa.table(arrays, names=list(record))


def json_number(text: str):
    """The text as a JSON number, where it is one in plain decimal notation
    (as the Rust test decides)."""
    literal = text.strip(" \t")
    if "e" in literal.lower():
        return None
    try:
        # NaN and Infinity are no JSON numbers
        value = json.loads(literal, parse_constant=lambda _: None)
    except ValueError:
        return None
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def test_the_table_is_large():
    assert len(CASES) >= 30


@pytest.mark.parametrize("case", CASES, ids=[f"{f}={t!r}" for f, t, _ in CASES])
def test_each_text_reads_alike_in_every_form(text_rules, case):
    field, text, accepted = case
    record = dict(text_rules["base"], **{field: text})
    expected = outcome([record])
    if accepted:
        assert expected[0] == "accepted", (field, text, expected)
    else:
        assert expected == ("refused", field), (field, text)
    values = [text]
    number = json_number(text)
    if number is not None:
        values += [number, float(number)]
        if float(number).is_integer():
            values.append(int(number))
    for value in values:
        for form, data in forms(dict(text_rules["base"], **{field: value}), field):
            assert outcome(data) == expected, (field, repr(value), form)


@pytest.mark.parametrize("missing", [None, math.nan, pd.NA], ids=["None", "NaN", "pd.NA"])
def test_missing_values_read_as_blank_text(text_rules, missing):
    fields = [f["name"] for f in classification_model.fields()]
    for field in fields:
        blank = outcome([dict(text_rules["base"], **{field: ""})])
        for form, data in forms(dict(text_rules["base"], **{field: missing}), field):
            assert outcome(data) == blank, (field, repr(missing), form)
