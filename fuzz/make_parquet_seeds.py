"""Writes the seeds of the `parquet` fuzz target, corpus/parquet/seed-*.parquet: a few small
files that between them hold every column type backprop reads (integers of each width,
floats, decimals, booleans, strings plain and dictionary-encoded, dates, timestamps with and
without a zone, times of day, nulls), the page layouts the reader meets (uncompressed and
Snappy, data pages v1 and v2, several row groups) and one unsupported type (a list).
Deterministic for one pyarrow version (written with 26.0.1).

    python3 -m venv /work/fuzzenv && /work/fuzzenv/bin/pip install pyarrow
    /work/fuzzenv/bin/python fuzz/make_parquet_seeds.py
"""

import datetime
import decimal
import pathlib

import pyarrow as pa
import pyarrow.parquet as pq

OUT = pathlib.Path(__file__).resolve().parent / "corpus" / "parquet"


def write(name, table, **options):
    pq.write_table(table, OUT / f"seed-{name}.parquet", **options)


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    write(
        "numbers",
        pa.table(
            {
                "i8": pa.array([1, -2, None, 4], pa.int8()),
                "i16": pa.array([300, -300, 0, None], pa.int16()),
                "u32": pa.array([1, 2, 3, 4], pa.uint32()),
                "u64": pa.array([0, 2**63, None, 5], pa.uint64()),
                "f32": pa.array([0.1, float("nan"), None, -1.5], pa.float32()),
                "y": pa.array([1.0, 2.5, float("inf"), -3.0], pa.float64()),
            }
        ),
        compression="none",
    )
    write(
        "text",
        pa.table(
            {
                "color": pa.array(["red", " green ", None, "red", "blue", "red"]),
                "flag": pa.array([True, False, None, True, True, False]),
                "dec": pa.array(
                    [decimal.Decimal("12.50"), None, decimal.Decimal("-0.01")] * 2,
                    pa.decimal128(6, 2),
                ),
                "label": pa.array(["yes", "no", "yes", "no", "yes", "no"]).dictionary_encode(),
            }
        ),
        compression="snappy",
        use_dictionary=True,
    )
    start = datetime.datetime(2024, 2, 29, 13, 45, 7, 250000)
    write(
        "times",
        pa.table(
            {
                "day": pa.array([datetime.date(1970, 1, 1), None, datetime.date(2024, 2, 29)], pa.date32()),
                "day64": pa.array([0, 86_400_000, 86_400_001], pa.date64()),
                "ts": pa.array([start, None, start], pa.timestamp("ms")),
                "utc": pa.array([start, start, None], pa.timestamp("us", tz="UTC")),
                "sec": pa.array([1, None, 86_399], pa.time32("s")),
                "ns": pa.array([1, 2, None], pa.time64("ns")),
                "label": pa.array(["a", "b", "a"]),
            }
        ),
        compression="snappy",
        data_page_version="2.0",
    )
    write(
        "row-groups",
        pa.table(
            {
                "x": pa.array([i * 0.5 for i in range(12)]),
                "none": pa.nulls(12),
                "label": pa.array(["a", "b", "c"] * 4),
            }
        ),
        row_group_size=4,
        compression="none",
        use_dictionary=False,
    )
    write(
        "list",
        pa.table({"v": pa.array([[1, 2], [], None]), "label": pa.array(["a", "b", "a"])}),
        compression="none",
    )


if __name__ == "__main__":
    main()
