"""The wheel against the course's scikit-learn pipeline, in one process and
one run (docs/BENCHMARKS.md, "Python"):

1. `make_prediction` on the 1309-row DataFrame, against the course's
   pipeline (tools/reference_pipeline.py's steps as a scikit-learn
   `Pipeline`: preparation, imputation, rare labels, one-hot, scaling,
   `LogisticRegression(C=0.0005)`) calling `predict_proba` on the same
   DataFrame;
2. `predict_arrow` on a 1,000,000-row Arrow table, pinned to one core;
3. with `--spark`: 1,000,000 rows on Spark `local[2]`, the wheel in
   `mapInArrow` against a pandas UDF (`mapInPandas`) calling the
   scikit-learn pipeline.

    python3 -m venv v && v/bin/pip install target/wheels/*.whl scikit-learn scipy pyspark
    v/bin/python python/benchmarks/bench.py [--spark]

Rounds alternate between the contenders; each figure is the median of its
rounds.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

import classification_model
from classification_model.predict import make_prediction

ROOT = Path(__file__).resolve().parents[2]
DATASET = ROOT / "classification_model" / "datasets" / "titanic.csv"
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(ROOT / "python" / "examples"))
import reference_pipeline as R  # noqa: E402


def course_pipeline(df: pd.DataFrame):
    """The course's pipeline, fitted on the whole dataset."""
    X = R.prepare_frame(df)
    params = R.fit(X)
    pipe = make_pipeline(
        FunctionTransformer(R.prepare_frame),
        FunctionTransformer(R.transform, kw_args={"p": params}),
        StandardScaler(),
        LogisticRegression(C=R.C, max_iter=1000),
    )
    return pipe.fit(df, df["survived"].to_numpy())


def timed(f, repeat: int) -> float:
    start = time.perf_counter()
    for _ in range(repeat):
        f()
    return (time.perf_counter() - start) / repeat


def alternate(contenders: dict, rounds: int, repeat: int) -> dict:
    times = {name: [] for name in contenders}
    for f in contenders.values():
        f()  # warm
    for _ in range(rounds):
        for name, f in contenders.items():
            times[name].append(timed(f, repeat))
    return {name: statistics.median(t) for name, t in times.items()}


def in_process(df: pd.DataFrame, pipe) -> None:
    t = alternate(
        {
            "make_prediction": lambda: make_prediction(input_data=df),
            "scikit-learn": lambda: pipe.predict_proba(df),
        },
        rounds=7,
        repeat=20,
    )
    print(f"1309-row DataFrame: make_prediction {t['make_prediction'] * 1e3:.3f} ms, "
          f"scikit-learn pipeline {t['scikit-learn'] * 1e3:.3f} ms: "
          f"{t['scikit-learn'] / t['make_prediction']:.1f}x faster")


def million(df: pd.DataFrame) -> pa.RecordBatch:
    table = pa.Table.from_pandas(df.drop(columns=["survived"]), preserve_index=False)
    table = pa.concat_tables([table] * (1_000_000 // len(df) + 1)).slice(0, 1_000_000)
    return pa.RecordBatch.from_arrays([c.combine_chunks() for c in table.columns],
                                      names=table.column_names)


def arrow(batch: pa.RecordBatch) -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    t = alternate({"predict_arrow": lambda: classification_model.predict_arrow(batch)},
                  rounds=5, repeat=1)["predict_arrow"]
    print(f"predict_arrow, 1,000,000 rows on one core: {t * 1e3:.0f} ms, "
          f"{batch.num_rows / t / 1e6:.2f} million rows/s")


def spark(pipe) -> None:
    from pyspark import cloudpickle
    from pyspark.sql import SparkSession

    import spark_score

    # the workers import neither module: send their functions by value
    cloudpickle.register_pickle_by_value(spark_score)
    cloudpickle.register_pickle_by_value(R)

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    session = (SparkSession.builder.master("local[2]").appName("bench")
               .config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", "false").getOrCreate())
    try:
        rows = 1_000_000
        fields = [f["name"] for f in classification_model.fields()]
        passengers = spark_score.repeated_passengers(session, str(DATASET), rows)
        passengers = passengers.select("id", *fields).cache()
        passengers.count()

        def with_pandas(frames):
            for frame in frames:
                p = pipe.predict_proba(frame)[:, 1]
                yield pd.DataFrame({"id": frame["id"], "probability": p,
                                    "prediction": (p > 0.5).astype("int32")})

        def run(df):
            return lambda: df.write.format("noop").mode("overwrite").save()

        t = alternate(
            {
                "mapInArrow (this wheel)": run(spark_score.score(passengers)),
                "pandas UDF (scikit-learn)": run(
                    passengers.mapInPandas(with_pandas, spark_score.OUTPUT_SCHEMA)),
            },
            rounds=3,
            repeat=1,
        )
        for name, seconds in t.items():
            print(f"Spark local[2], {rows:,} rows, {name}: {seconds:.2f} s, "
                  f"{rows / seconds:,.0f} rows/s")
        arrow_s, pandas_s = t.values()
        print(f"Spark: mapInArrow is {pandas_s / arrow_s:.1f}x the pandas UDF's throughput")
    finally:
        session.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--spark", action="store_true", help="also Spark (needs pyspark, Java)")
    args = parser.parse_args()
    df = pd.read_csv(DATASET, na_values="?", keep_default_na=False)
    pipe = course_pipeline(df)
    features = df.drop(columns=["survived"])
    in_process(features, pipe)
    if args.spark:
        spark(pipe)  # before pinning this process to one core
    arrow(million(df))


if __name__ == "__main__":
    main()
