"""Scores passengers with Spark: each executor runs the wheel's native scorer
on the Arrow batches Spark hands it (``DataFrame.mapInArrow``), so data of any
size is scored where it lies, at Arrow speed, with no copy through pandas.

Input: a CSV file with the dataset's header (``?`` or blank for missing), or,
with ``--rows N``, the 1309 dataset rows repeated to N rows with varied ages
and fares (a stand-in for a large table). Output: Parquet with ``id``,
``probability`` and ``prediction``, one row per input row.

    # local, on two cores
    python examples/spark_score.py --master 'local[2]' --rows 1000000 \\
        ../classification_model/datasets/titanic.csv /tmp/scored

    # a cluster: ship the wheel to the executors with the job
    spark-submit --master yarn \\
        --py-files classification_model_rs-0.3.0-cp39-abi3-manylinux_2_17_x86_64.whl \\
        examples/spark_score.py s3://bucket/passengers.csv s3://bucket/scored

The script is the same on both: only the master and where the wheel comes
from differ (``--py-files``, or a cluster library on Databricks and EMR).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator

import pyarrow as pa
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

# the answer's columns, as Spark declares them
OUTPUT_SCHEMA = "id long, probability double, prediction int"


def score_batches(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """What each executor runs: the batches' passengers scored in place, the
    ``id`` column carried through. Invalid rows fail the task with a
    ``ValidationError`` naming each row (within its batch) and field."""
    import classification_model

    for batch in batches:
        names = [n for n in batch.schema.names if n != "id"]
        passengers = pa.RecordBatch.from_arrays([batch.column(n) for n in names], names=names)
        scored = classification_model.predict_arrow(passengers)
        yield pa.RecordBatch.from_arrays(
            [
                batch.column("id"),
                scored.column("probability"),
                scored.column("prediction").cast(pa.int32()),
            ],
            names=["id", "probability", "prediction"],
        )


def score(passengers: DataFrame) -> DataFrame:
    """``passengers`` (an ``id`` column and the dataset's columns) scored.
    Only the model's fields travel to the scorer (the dataset's other
    columns, such as ``home.dest``, stay behind)."""
    import classification_model

    fields = [f["name"] for f in classification_model.fields() if f["name"] in passengers.columns]
    return passengers.select("id", *fields).mapInArrow(score_batches, OUTPUT_SCHEMA)


def read_passengers(spark: SparkSession, path: str) -> DataFrame:
    """A CSV file with the dataset's header, every cell as text (the
    model reads numbers in text by its own rules), with a row ``id``."""
    df = spark.read.csv(path, header=True, inferSchema=False)
    return df.withColumn("id", F.monotonically_increasing_id())


def repeated_passengers(spark: SparkSession, path: str, rows: int) -> DataFrame:
    """The file's rows repeated to ``rows`` rows (``id`` 0 to rows - 1):
    copy k of a row has its age raised by ``k % 7`` years (up to 120) and
    its fare scaled by ``1 + (k % 11) / 100``, so that copies differ."""
    base = spark.read.csv(path, header=True, inferSchema=False)
    n = base.count()
    base = base.withColumn("row", F.row_number().over(_in_file_order()) - 1)
    ids = spark.range(rows).withColumn("row", F.col("id") % n).withColumn(
        "copy", (F.col("id") / n).cast("long")
    )
    df = ids.join(F.broadcast(base), "row")
    age = F.when(F.col("age") == "?", None).otherwise(F.col("age").cast("double"))
    fare = F.when(F.col("fare") == "?", None).otherwise(F.col("fare").cast("double"))
    return df.select(
        "id",
        # backquoted: `home.dest` is one name, not a field of `home`
        *[F.col(f"`{c}`") for c in base.columns if c not in ("row", "age", "fare")],
        F.least(age + F.col("copy") % 7, F.lit(120.0)).alias("age"),
        (fare * (1 + (F.col("copy") % 11) / 100)).alias("fare"),
    )


def _in_file_order():
    from pyspark.sql import Window

    return Window.orderBy(F.monotonically_increasing_id())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("input", help="CSV with the dataset's header")
    parser.add_argument("output", help="where the Parquet answer goes")
    parser.add_argument("--rows", type=int, help="repeat the input to this many rows")
    parser.add_argument("--master", help="Spark master (default: spark-submit's)")
    args = parser.parse_args(argv)
    builder = SparkSession.builder.appName("classification_model scoring")
    if args.master:
        builder = builder.master(args.master)
    if (args.master or "").startswith("local"):
        # local workers run this interpreter, which has the wheel
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    spark = builder.getOrCreate()
    try:
        if args.rows:
            passengers = repeated_passengers(spark, args.input, args.rows)
        else:
            passengers = read_passengers(spark, args.input)
        score(passengers).write.mode("overwrite").parquet(args.output)
    finally:
        spark.stop()


if __name__ == "__main__":
    main()
