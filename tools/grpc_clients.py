"""Scores the 1309 dataset rows through the Open Inference Protocol's gRPC
service with a stock Python client, in one call and in 1309 single-row
calls, and checks every row against POST /predict (1e-12); then sends the
bad requests a user gets wrong and checks each one's status and message.

- triton: tritonclient.grpc with its defaults (raw tensor contents);
- kserve: kserve's InferenceGRPCClient, with typed contents (lists) for the
  whole batch and raw contents (numpy) for single rows.

The two register the same protobuf symbols, so one process cannot import
both: run each in its own process (as .ci/grpc_clients.sh does).

Usage: python tools/grpc_clients.py triton|kserve HTTP_ADDR GRPC_ADDR KEY
"""

import asyncio
import sys

import numpy as np

from v2_data import MODEL, TEXT, TOLERANCE, frame, reference

# what each bad request must get: (what is wrong, status, words of the message)
BAD = [
    ("an unknown input", "INVALID_ARGUMENT", 'input "Age" is no input of this model'),
    ("a wrong datatype", "INVALID_ARGUMENT", 'input "age" has datatype "BOOL"'),
    ("a shape that disagrees with the data", "INVALID_ARGUMENT", 'input "pclass" has'),
    ("a missing required column", "INVALID_ARGUMENT", 'input "sex" is required'),
    ("an oversized message", "RESOURCE_EXHAUSTED", "MAX_BODY_BYTES"),
    ("a wrong key", "UNAUTHENTICATED", "Bearer"),
]


def columns(df):
    """Each column: name, datatype, values as numpy (text as object)."""
    out = []
    for column in df.columns:
        values = df[column].to_numpy()
        if column in TEXT:
            out.append((column, "BYTES", values.astype(object)))
        else:
            out.append((column, "INT64" if values.dtype == np.int64 else "FP64", values))
    return out


def variants(df):
    """The bad requests of BAD, as (columns, key is right) for each."""
    cols = columns(df.iloc[:1])
    renamed = [("Age" if n == "age" else n, d, v) for n, d, v in cols]
    boolean = [(n, "BOOL", np.array([True])) if n == "age" else (n, d, v) for n, d, v in cols]
    # every shape says 2 rows, the data holds 1
    no_sex = [c for c in cols if c[0] != "sex"]
    big = columns(df)
    big = [(n, d, np.array(["x" * 1000] * len(v), dtype=object) if n == "name" else v)
           for n, d, v in big]
    return [(renamed, True, None), (boolean, True, None), (cols, True, 2),
            (no_sex, True, None), (big, True, None), (cols, False, None)]


def check(name, p, y, expected_p, expected_y):
    p = np.asarray(p, dtype=np.float64).reshape(-1)
    y = np.asarray(y).reshape(-1)
    worst = float(np.max(np.abs(p - expected_p))) if len(p) == len(expected_p) else float("inf")
    same = len(y) == len(expected_y) and bool(np.all(y == expected_y))
    ok = worst <= TOLERANCE and same
    print(f"{'ok  ' if ok else 'FAIL'} {name}: {len(p)} rows, max |dp| = {worst:.3g}, "
          f"predictions {'equal' if same else 'differ'}")
    return ok


def bad_outcome(name, expected_status, words, status, message):
    ok = status == expected_status and words in message
    print(f"{'ok  ' if ok else 'FAIL'} {name}: {status}: {message}")
    return ok


def triton(grpc_address, key, df, expected_p, expected_y):
    import tritonclient.grpc as grpcclient
    from tritonclient.utils import InferenceServerException

    client = grpcclient.InferenceServerClient(url=grpc_address)
    headers = {"authorization": f"Bearer {key}"}
    assert client.is_server_live() and client.is_server_ready()
    assert client.is_model_ready(MODEL)
    metadata = client.get_model_metadata(MODEL, as_json=True)
    assert [i["name"] for i in metadata["inputs"]][:3] == ["pclass", "name", "sex"], metadata

    def inputs(cols, rows=None):
        out = []
        for name, datatype, values in cols:
            tensor = grpcclient.InferInput(name, [len(values)], datatype)
            tensor.set_data_from_numpy(values)
            if rows is not None:
                tensor.set_shape([rows])
            out.append(tensor)
        return out

    ok = True
    result = client.infer(MODEL, inputs(columns(df)), headers=headers)
    ok &= check("tritonclient.grpc, 1309 rows in one call (raw contents)",
                result.as_numpy("probabilities"), result.as_numpy("predictions"),
                expected_p, expected_y)
    ps, ys = [], []
    for i in range(len(df)):
        r = client.infer(MODEL, inputs(columns(df.iloc[i:i + 1])), headers=headers)
        ps.append(r.as_numpy("probabilities")[0])
        ys.append(r.as_numpy("predictions")[0])
    ok &= check("tritonclient.grpc, 1309 single-row calls", ps, ys, expected_p, expected_y)
    for (name, status, words), (cols, right_key, rows) in zip(BAD, variants(df)):
        try:
            client.infer(MODEL, inputs(cols, rows),
                         headers=headers if right_key else {"authorization": "Bearer wrong-wrong-wrong"})
            ok &= bad_outcome(name, status, words, "OK", "")
        except InferenceServerException as e:
            ok &= bad_outcome(name, status, words, str(e.status()).removeprefix("StatusCode."),
                              e.message() or "")
    return ok


async def kserve_checks(grpc_address, key, df, expected_p, expected_y):
    import logging

    import grpc
    from kserve import InferenceGRPCClient, InferInput, InferRequest

    # the client logs every failed call with its traceback; the bad
    # requests below fail on purpose, and their outcome is printed
    logging.getLogger("kserve").setLevel(logging.CRITICAL)

    client = InferenceGRPCClient(url=grpc_address, timeout=60)
    headers = (("authorization", f"Bearer {key}"),)
    assert await client.is_server_live() and await client.is_server_ready()
    assert await client.is_model_ready(MODEL)

    def request(cols, typed, rows=None):
        inputs = []
        for name, datatype, values in cols:
            shape = [rows if rows is not None else len(values)]
            if typed:
                data = [float(v) if datatype == "FP64" else
                        int(v) if datatype == "INT64" else
                        bool(v) if datatype == "BOOL" else str(v) for v in values]
                inputs.append(InferInput(name, shape, datatype, data))
            else:
                tensor = InferInput(name, shape, datatype)
                tensor.set_data_from_numpy(values, binary_data=True)
                inputs.append(tensor)
        return InferRequest(model_name=MODEL, infer_inputs=inputs)

    def outputs(response):
        by_name = {o.name: o.as_numpy() for o in response.outputs}
        return by_name["probabilities"], by_name["predictions"]

    ok = True
    p, y = outputs(await client.infer(request(columns(df), typed=True), headers=headers))
    ok &= check("kserve InferenceGRPCClient, 1309 rows in one call (typed contents)",
                p, y, expected_p, expected_y)
    ps, ys = [], []
    for i in range(len(df)):
        p, y = outputs(await client.infer(request(columns(df.iloc[i:i + 1]), typed=False),
                                          headers=headers))
        ps.append(p[0])
        ys.append(y[0])
    ok &= check("kserve InferenceGRPCClient, 1309 single-row calls (raw contents)",
                ps, ys, expected_p, expected_y)
    for (name, status, words), (cols, right_key, rows) in zip(BAD, variants(df)):
        try:
            await client.infer(
                request(cols, typed=True, rows=rows),
                headers=headers if right_key else (("authorization", "Bearer wrong-wrong-wrong"),))
            ok &= bad_outcome(name, status, words, "OK", "")
        except grpc.aio.AioRpcError as e:
            ok &= bad_outcome(name, status, words, e.code().name, e.details() or "")
    await client.close()
    return ok


def main():
    which, http_address, grpc_address, key = sys.argv[1:5]
    expected_p, expected_y = reference(http_address, key)
    assert len(expected_p) == 1309, len(expected_p)
    df = frame()
    if which == "triton":
        ok = triton(grpc_address, key, df, expected_p, expected_y)
    elif which == "kserve":
        ok = asyncio.run(kserve_checks(grpc_address, key, df, expected_p, expected_y))
    else:
        sys.exit(f"unknown client {which!r}: triton or kserve")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
