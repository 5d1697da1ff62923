"""Scores the 1309 dataset rows through the Open Inference Protocol with the
real Python clients, and checks every row against POST /predict (1e-12).

- tritonclient.http with its defaults (binary tensors both ways);
- tritonclient.http again with binary_data=False (JSON both ways);
- a request built by mlserver's PandasCodec.encode_request from a pandas
  DataFrame, posted as JSON.

Usage: python tools/v2_clients.py HOST:PORT  (run by .ci/v2_clients.sh)
"""

import sys

import numpy as np
import tritonclient.http as httpclient
from mlserver.codecs import PandasCodec

from v2_data import MODEL, TEXT, TOLERANCE, frame, post, reference

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
