"""Scores passengers with Dask: each partition (a pandas DataFrame) goes
through ``classification_model.predict``. The native scorer releases the GIL,
so Dask's default threaded scheduler scores partitions on every core of one
machine; with ``dask.distributed`` the same code runs on a cluster whose
workers have the wheel installed.

Input: CSV files with the dataset's header (a path or a glob, read as text:
the model reads numbers in text by its own rules), or, with ``--rows N``,
the 1309 dataset rows repeated to N rows with varied ages and fares. Output:
Parquet with ``id``, ``probability`` and ``prediction``.

    python examples/dask_score.py --rows 1000000 ../classification_model/datasets/titanic.csv /tmp/scored
"""

from __future__ import annotations

import argparse

import dask.dataframe as dd
import numpy as np
import pandas as pd

# the answer's columns and types, as Dask declares them
META = pd.DataFrame(
    {
        "id": pd.Series(dtype="int64"),
        "probability": pd.Series(dtype="float64"),
        "prediction": pd.Series(dtype="uint8"),
    }
)


def score_partition(frame: pd.DataFrame) -> pd.DataFrame:
    """What each task runs: the partition's passengers scored, ``id`` carried
    through. Invalid rows fail the task with a ``ValidationError`` naming each
    row (within its partition) and field."""
    import classification_model

    fields = [f["name"] for f in classification_model.fields() if f["name"] in frame.columns]
    scored = classification_model.predict(frame[fields])
    return pd.DataFrame(
        {
            "id": frame["id"].to_numpy(),
            "probability": scored["probability"].to_numpy(),
            "prediction": scored["prediction"].to_numpy(),
        },
        index=frame.index,
    )


def score(passengers: dd.DataFrame) -> dd.DataFrame:
    """``passengers`` (an ``id`` column and the dataset's columns) scored."""
    return passengers.map_partitions(score_partition, meta=META)


def read_passengers(path: str, blocksize: str = "64MB") -> dd.DataFrame:
    """CSV files with the dataset's header, every cell as text, with an ``id``
    (the row's position in the whole input)."""
    df = dd.read_csv(path, dtype=str, keep_default_na=False, blocksize=blocksize)
    return df.assign(id=1).assign(id=lambda d: d["id"].cumsum() - 1)


def repeated_passengers(path: str, rows: int, partitions: int) -> dd.DataFrame:
    """The file's rows repeated to ``rows`` rows (``id`` 0 to rows - 1): copy
    k of a row has its age raised by ``k % 7`` years (up to 120) and its fare
    scaled by ``1 + (k % 11) / 100``, so that copies differ."""
    base = pd.read_csv(path, dtype=str, keep_default_na=False)
    ids = np.arange(rows)
    copy = ids // len(base)
    frame = base.iloc[ids % len(base)].reset_index(drop=True)
    age = pd.to_numeric(frame["age"].replace("?", None))
    fare = pd.to_numeric(frame["fare"].replace("?", None))
    frame["age"] = np.minimum(age + copy % 7, 120.0)
    frame["fare"] = fare * (1 + (copy % 11) / 100)
    frame.insert(0, "id", ids)
    return dd.from_pandas(frame, npartitions=partitions)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("input", help="CSV file(s) with the dataset's header")
    parser.add_argument("output", help="where the Parquet answer goes")
    parser.add_argument("--rows", type=int, help="repeat the input to this many rows")
    parser.add_argument("--partitions", type=int, default=16, help="with --rows")
    args = parser.parse_args(argv)
    if args.rows:
        passengers = repeated_passengers(args.input, args.rows, args.partitions)
    else:
        passengers = read_passengers(args.input)
    score(passengers).to_parquet(args.output, write_index=False)


if __name__ == "__main__":
    main()
