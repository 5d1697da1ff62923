"""What the package says about itself."""

from __future__ import annotations

import json
import os
import urllib.request
from pathlib import Path

import classification_model
from conftest import ROOT, unavailable


def test_the_version_is_the_crate_version():
    version = (ROOT / "classification_model" / "VERSION").read_text().strip()
    assert classification_model.model_version() == version
    assert classification_model.__version__ == version


def test_fields_come_from_the_crate_table():
    fields = classification_model.fields()
    assert [f["name"] for f in fields] == [
        "pclass", "name", "sex", "age", "sibsp", "parch", "fare", "cabin", "embarked",
    ]
    pclass = fields[0]
    assert pclass["type"] == "integer" and pclass["required"]
    assert (pclass["minimum"], pclass["maximum"]) == (1, 3)
    assert pclass["allowed_values"] == [1, 2, 3]
    sex = fields[2]
    assert sex["allowed_values"] == ["male", "female"]
    assert fields[1]["explained_as"] == "title"


def test_fields_are_what_the_api_lists():
    addr = os.environ.get("API_ADDR")
    if not addr:
        unavailable("API_ADDR is not set")
    with urllib.request.urlopen(f"http://{addr}/model", timeout=30) as r:
        assert json.load(r)["features"] == classification_model.fields()


def test_the_model_card():
    card = classification_model.model_card()
    assert card["version"] == classification_model.model_version()
    assert len(card["training_data"]["sha256"]) == 64
    assert card["training_data"]["rows"] == 1309
    assert 0.5 < card["metrics"]["test"]["roc_auc"] <= 1
    assert "pipeline" in card["config"]


def test_the_package_is_typed():
    package = Path(classification_model.__file__).parent
    assert (package / "py.typed").exists()
    assert (package / "_native.pyi").exists()


def test_the_course_import_path():
    from classification_model.predict import make_prediction

    import classification_model.predict as course

    assert course.make_prediction is make_prediction
    assert callable(classification_model.predict)
