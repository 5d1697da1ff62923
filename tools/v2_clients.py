"""Scores the 1309 dataset rows through the Open Inference Protocol with the
real Python clients, and checks every row against POST /predict (1e-12).

- tritonclient.http with its defaults (binary tensors both ways);
- tritonclient.http again with binary_data=False (JSON both ways);
- a request built by mlserver's PandasCodec.encode_request from a pandas
  DataFrame, posted as JSON.

Usage: python tools/v2_clients.py HOST:PORT  (run by .ci/v2_clients.sh)
"""

import json
import sys
import urllib.request

import numpy as np
import pandas as pd
import tritonclient.http as httpclient
from mlserver.codecs import PandasCodec

DATASET = "classification_model/datasets/titanic.csv"
MODEL = "titanic_classification_model"
TOLERANCE = 1e-12

# The numeric columns read "?" as NaN; the text columns keep "?", which the
# field rules read as missing, as they do an empty string.
NUMERIC = {"pclass": np.int64, "age": np.float64, "sibsp": np.int64,
           "parch": np.int64, "fare": np.float64}
TEXT = ["name", "sex", "cabin", "embarked", "ticket"]


def post(address, path, body, content_type):
    request = urllib.request.Request(
        f"http://{address}{path}", data=body, method="POST",
        headers={"Content-Type": content_type})
    with urllib.request.urlopen(request) as response:
        return json.load(response)


def reference(address):
    with open(DATASET, "rb") as f:
        body = post(address, "/predict", f.read(), "text/csv")
    return np.array(body["probabilities"]), np.array(body["predictions"])


def frame():
    df = pd.read_csv(DATASET, keep_default_na=False,
                     na_values={c: ["?"] for c in NUMERIC})
    for column, dtype in NUMERIC.items():
        df[column] = df[column].astype(dtype)
    for column in TEXT:
        df[column] = df[column].astype(str).astype(object)
    return df[list(NUMERIC) + TEXT]


def triton_inputs(df, binary):
    inputs = []
    for i, column in enumerate(df.columns):
        values = df[column].to_numpy()
        if column in TEXT:
            datatype, values = "BYTES", values.astype(object)
        elif not binary and df[column].isna().any():
            # JSON has no NaN: a column with missing numbers goes as text,
            # which the field rules read as /predict does ("?" is missing)
            datatype = "BYTES"
            values = np.array(["?" if np.isnan(v) else repr(float(v)) for v in values],
                              dtype=object)
        else:
            datatype = "INT64" if values.dtype == np.int64 else "FP64"
        # half the columns as [N], half as [N, 1]
        shape = [len(values)] if i % 2 == 0 else [len(values), 1]
        tensor = httpclient.InferInput(column, shape, datatype)
        tensor.set_data_from_numpy(values.reshape(shape), binary_data=binary)
        inputs.append(tensor)
    return inputs


def triton(address, df, binary):
    client = httpclient.InferenceServerClient(url=address)
    assert client.is_server_live() and client.is_server_ready()
    assert client.is_model_ready(MODEL)
    metadata = client.get_model_metadata(MODEL)
    assert [i["name"] for i in metadata["inputs"]][:3] == ["pclass", "name", "sex"], metadata
    if binary:
        # the defaults: no outputs named, so every output comes as binary data
        result = client.infer(MODEL, triton_inputs(df, True))
    else:
        outputs = [httpclient.InferRequestedOutput(n, binary_data=False)
                   for n in ("probabilities", "predictions")]
        result = client.infer(MODEL, triton_inputs(df, False), outputs=outputs)
    return result.as_numpy("probabilities"), result.as_numpy("predictions")


def pandas_codec(address, df):
    request = PandasCodec.encode_request(df)
    body = request.model_dump_json(exclude_none=True).encode()
    answer = post(address, f"/v2/models/{MODEL}/infer", body, "application/json")
    outputs = {o["name"]: o for o in answer["outputs"]}
    return (np.array(outputs["probabilities"]["data"], dtype=np.float64),
            np.array(outputs["predictions"]["data"]))


def main():
    address = sys.argv[1]
    expected_p, expected_y = reference(address)
    assert len(expected_p) == 1309, len(expected_p)
    df = frame()
    checks = {
        "tritonclient.http (defaults: binary tensors)": lambda: triton(address, df, True),
        "tritonclient.http (binary_data=False)": lambda: triton(address, df, False),
        "mlserver PandasCodec.encode_request, as JSON": lambda: pandas_codec(address, df),
    }
    failed = False
    for name, run in checks.items():
        p, y = run()
        p = np.asarray(p, dtype=np.float64).reshape(-1)
        y = np.asarray(y).reshape(-1)
        worst = float(np.max(np.abs(p - expected_p))) if len(p) == len(expected_p) else float("inf")
        same = len(y) == len(expected_y) and bool(np.all(y == expected_y))
        ok = worst <= TOLERANCE and same
        failed |= not ok
        print(f"{'ok  ' if ok else 'FAIL'} {name}: {len(p)} rows, max |dp| = {worst:.3g}, "
              f"predictions {'equal' if same else 'differ'}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
