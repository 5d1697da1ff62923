"""Shared data for the package's tests: the dataset, the Rust crate's own
predictions of it, and the API's.

`CRATE_PREDICTIONS` names a file written by the crate's example
(`cargo run -p classification_model --example predict -- titanic.csv`) and
`API_ADDR` a running service (host:port). `.ci/python.sh` sets both, and
`REQUIRE_ALL=1`, under which a test that cannot run fails instead of being
skipped.
"""

from __future__ import annotations

import csv
import json
import os
import urllib.request
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]
DATASET = ROOT / "classification_model" / "datasets" / "titanic.csv"
TEXT_RULES = ROOT / "classification_api" / "tests" / "it" / "text_rules.json"


def unavailable(why: str) -> None:
    """Skips the test, or fails it where every test must run."""
    if os.environ.get("REQUIRE_ALL") == "1":
        pytest.fail(f"cannot run under REQUIRE_ALL=1: {why}")
    pytest.skip(why)


@pytest.fixture(scope="session")
def dataset_text() -> pd.DataFrame:
    """The dataset as the file has it: every cell text, `?` kept."""
    return pd.read_csv(DATASET, dtype=str, keep_default_na=False)


@pytest.fixture(scope="session")
def dataset() -> pd.DataFrame:
    """The dataset as the course reads it: `?` as NaN, numbers typed."""
    return pd.read_csv(DATASET, na_values="?", keep_default_na=False)


@pytest.fixture(scope="session")
def crate_probabilities() -> list[float]:
    path = os.environ.get("CRATE_PREDICTIONS")
    if not path:
        unavailable("CRATE_PREDICTIONS is not set")
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["row"]) for r in rows] == list(range(len(rows)))
    return [float(r["probability"]) for r in rows]


@pytest.fixture(scope="session")
def api_probabilities() -> list[float]:
    addr = os.environ.get("API_ADDR")
    if not addr:
        unavailable("API_ADDR is not set")
    request = urllib.request.Request(
        f"http://{addr}/predict",
        data=DATASET.read_bytes(),
        headers={"content-type": "text/csv", "accept": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as r:
        body = json.load(r)
    return body["probabilities"]


@pytest.fixture(scope="session")
def text_rules() -> dict:
    return json.loads(TEXT_RULES.read_text(encoding="utf-8"))
