"""The Spark example on a million rows with pyspark in local mode: the same
probabilities as single-process scoring of the same rows, none lost, none
duplicated."""

from __future__ import annotations

import importlib.util
import os
import sys

import pyarrow as pa
import pyarrow.compute as pc
import pytest

import classification_model
from conftest import DATASET, ROOT, unavailable

ROWS = 1_000_000


def load_example():
    path = ROOT / "python" / "examples" / "spark_score.py"
    spec = importlib.util.spec_from_file_location("spark_score", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def spark():
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        unavailable("pyspark is not installed")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    session = (
        SparkSession.builder.master("local[2]")
        .appName("classification_model tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .getOrCreate()
    )
    yield session
    session.stop()


def test_a_million_rows_through_map_in_arrow_equal_single_process_scoring(spark):
    example = load_example()
    passengers = example.repeated_passengers(spark, str(DATASET), ROWS).cache()
    scored = example.score(passengers).toArrow().sort_by("id")
    assert scored.num_rows == ROWS
    assert scored.column("id").to_pylist() == list(range(ROWS))  # none lost, none twice

    # the same rows, scored here in one process
    fields = [f["name"] for f in classification_model.fields()]
    rows = passengers.select("id", *fields).toArrow().sort_by("id")
    alone = classification_model.predict_arrow(rows.drop_columns(["id"]))
    assert pc.max(pc.abs(pc.subtract(scored.column("probability"), alone.column("probability")))).as_py() == 0
    assert scored.column("prediction").to_pylist() == alone.column("prediction").cast(pa.int32()).to_pylist()
    # the copies do differ: ages and fares were varied
    assert len(set(scored.column("probability").to_pylist())) > 10_000
