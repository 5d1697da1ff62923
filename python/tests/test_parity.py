"""The 1309 dataset rows through every entry point, equal to the Rust crate
and to the API's /predict."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pyarrow as pa

import classification_model
from classification_model.predict import make_prediction

TOLERANCE = 1e-12


def max_gap(a, b) -> float:
    assert len(a) == len(b) == 1309
    return max(abs(x - y) for x, y in zip(a, b))


def entry_points(text: pd.DataFrame, typed: pd.DataFrame):
    """Each way in, with the probabilities it gives."""
    table = pa.Table.from_pandas(typed, preserve_index=False)
    batch = pa.RecordBatch.from_pandas(typed, preserve_index=False)
    yield "make_prediction(text DataFrame)", make_prediction(input_data=text)["probabilities"]
    yield "make_prediction(typed DataFrame)", make_prediction(input_data=typed)["probabilities"]
    yield "make_prediction(records)", make_prediction(
        input_data=typed.to_dict(orient="records")
    )["probabilities"]
    yield "make_prediction(dict of columns)", make_prediction(
        input_data=typed.to_dict(orient="list")
    )["probabilities"]
    yield "predict(text DataFrame)", classification_model.predict(text)["probability"].tolist()
    yield "predict(typed DataFrame)", classification_model.predict(typed)["probability"].tolist()
    yield "predict(records)", classification_model.predict(text.to_dict(orient="records"))[
        "probability"
    ].tolist()
    yield "predict(Table)", classification_model.predict(table).column("probability").to_pylist()
    yield "predict(chunked Table)", classification_model.predict(
        pa.concat_tables([table.slice(0, 500), table.slice(500)])
    ).column("probability").to_pylist()
    yield "predict_arrow(RecordBatch)", classification_model.predict_arrow(batch).column(
        "probability"
    ).to_pylist()
    yield "predict_arrow(text RecordBatch)", classification_model.predict_arrow(
        pa.RecordBatch.from_pandas(text, preserve_index=False)
    ).column("probability").to_pylist()


def test_every_entry_point_equals_the_crate(dataset_text, dataset, crate_probabilities):
    for name, probabilities in entry_points(dataset_text, dataset):
        assert max_gap(probabilities, crate_probabilities) <= TOLERANCE, name


def test_arrow_equals_the_api(dataset, api_probabilities):
    table = pa.Table.from_pandas(dataset, preserve_index=False)
    got = classification_model.predict(table).column("probability").to_pylist()
    assert max_gap(got, api_probabilities) <= TOLERANCE
    course = make_prediction(input_data=dataset)
    assert max_gap(course["probabilities"], api_probabilities) <= TOLERANCE


def test_the_course_result_shape(dataset):
    result = make_prediction(input_data=dataset)
    assert set(result) == {"predictions", "probabilities", "version", "errors"}
    assert result["errors"] is None
    assert result["version"] == classification_model.model_version()
    assert result["predictions"] == [int(p > 0.5) for p in result["probabilities"]]
    assert all(type(p) is int for p in result["predictions"])
    # the model predicts the survivors better than chance, as trained
    accuracy = np.mean(np.array(result["predictions"]) == dataset["survived"].to_numpy())
    assert accuracy > 0.75


def test_predict_keeps_the_frame_index_and_the_threshold(dataset):
    frame = dataset.set_index(pd.Index(range(1000, 2309)))
    out = classification_model.predict(frame, threshold=0.9)
    assert out.index.equals(frame.index)
    assert list(out.columns) == ["probability", "prediction"]
    assert (out["prediction"] == (out["probability"] > 0.9).astype("uint8")).all()


def test_arrow_answers_in_kind(dataset):
    table = pa.Table.from_pandas(dataset, preserve_index=False)
    out = classification_model.predict(table)
    assert isinstance(out, pa.Table) and out.num_rows == 1309
    assert out.schema.field("probability").type == pa.float64()
    assert out.schema.field("prediction").type == pa.uint8()
    batch = classification_model.predict_arrow(table.to_batches()[0])
    assert isinstance(batch, pa.RecordBatch)


def test_empty_inputs_give_empty_answers():
    empty = pd.DataFrame({"pclass": [], "sex": [], "sibsp": [], "parch": []})
    assert len(classification_model.predict(empty)) == 0
    assert make_prediction(input_data=[])["predictions"] == []


def test_explanations_sum_to_the_log_odds(dataset):
    out = classification_model.predict(dataset, explain=True)
    features = [f["explained_as"] for f in classification_model.fields()]
    columns = [f"contribution_{f}" for f in features]
    assert list(out.columns) == ["probability", "prediction", "baseline", *columns]
    for _, row in out.iterrows():
        total = row["baseline"] + sum(row[c] for c in columns)
        p = row["probability"]
        assert math.isclose(total, math.log(p / (1 - p)), abs_tol=1e-9)


def test_a_call_sees_nothing_of_the_one_before(dataset):
    """The native side reuses its row buffers between calls: a column one
    call lacks must read as missing, not as the last call's value."""
    minimal = {"pclass": 3, "sex": "male", "sibsp": 0, "parch": 0}
    first = classification_model.predict([minimal])["probability"].iloc[0]
    classification_model.predict(dataset)  # every column, 1309 rows
    again = classification_model.predict(pa.Table.from_pylist([minimal]))
    assert again.column("probability")[0].as_py() == first
    assert classification_model.predict([minimal])["probability"].iloc[0] == first


def test_a_pandas_without_its_column_accessor_reads_alike(dataset, monkeypatch):
    """The DataFrame path reads columns with pandas' `_get_column_array`
    where it exists, and through each column's Series otherwise."""
    expected = classification_model.predict(dataset)["probability"].tolist()
    monkeypatch.delattr(pd.DataFrame, "_get_column_array")
    assert classification_model.predict(dataset)["probability"].tolist() == expected
