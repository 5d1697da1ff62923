"""What the protocol client checks share (tools/v2_clients.py,
tools/grpc_clients.py): the dataset as a DataFrame with each column's dtype,
and /predict's answer for it, the reference every client must equal."""

import json
import urllib.request

import numpy as np
import pandas as pd

DATASET = "classification_model/datasets/titanic.csv"
MODEL = "titanic_classification_model"
TOLERANCE = 1e-12

# The numeric columns read "?" as NaN; the text columns keep "?", which the
# field rules read as missing, as they do an empty string.
NUMERIC = {"pclass": np.int64, "age": np.float64, "sibsp": np.int64,
           "parch": np.int64, "fare": np.float64}
TEXT = ["name", "sex", "cabin", "embarked", "ticket"]


def post(address, path, body, content_type, key=None):
    headers = {"Content-Type": content_type}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    request = urllib.request.Request(
        f"http://{address}{path}", data=body, method="POST", headers=headers)
    with urllib.request.urlopen(request) as response:
        return json.load(response)


def reference(address, key=None):
    """/predict's probabilities and predictions for the 1309 rows."""
    with open(DATASET, "rb") as f:
        body = post(address, "/predict", f.read(), "text/csv", key)
    return np.array(body["probabilities"]), np.array(body["predictions"])


def frame():
    df = pd.read_csv(DATASET, keep_default_na=False,
                     na_values={c: ["?"] for c in NUMERIC})
    for column, dtype in NUMERIC.items():
        df[column] = df[column].astype(dtype)
    for column in TEXT:
        df[column] = df[column].astype(str).astype(object)
    return df[list(NUMERIC) + TEXT]


