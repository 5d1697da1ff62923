"""The Dask example on a million rows with the threaded scheduler: the same
probabilities as one call on the same rows, none lost, none duplicated."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

import classification_model
from conftest import DATASET, ROOT, unavailable

ROWS = 1_000_000


@pytest.fixture(scope="module")
def example():
    try:
        import dask.dataframe  # noqa: F401
    except ImportError:
        unavailable("dask is not installed")
    path = ROOT / "python" / "examples" / "dask_score.py"
    spec = importlib.util.spec_from_file_location("dask_score", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_million_rows_by_partition_equal_one_call(example):
    passengers = example.repeated_passengers(str(DATASET), ROWS, partitions=8)
    scored = example.score(passengers).compute(scheduler="threads", num_workers=2)
    scored = scored.sort_values("id")
    assert len(scored) == ROWS
    assert (scored["id"].to_numpy() == np.arange(ROWS)).all()  # none lost, none twice

    frame = passengers.compute()
    alone = classification_model.predict(frame.drop(columns=["id"]))
    assert (scored["probability"].to_numpy() == alone["probability"].to_numpy()).all()
    assert (scored["prediction"].to_numpy() == alone["prediction"].to_numpy()).all()
    assert scored["probability"].nunique() > 10_000  # the copies differ


def test_csv_files_read_as_text(example, dataset_text):
    scored = example.score(example.read_passengers(str(DATASET))).compute()
    assert scored["id"].tolist() == list(range(1309))
    expected = classification_model.predict(dataset_text)["probability"].tolist()
    assert scored["probability"].tolist() == expected
