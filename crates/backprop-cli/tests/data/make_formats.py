"""Writes mixed.csv, mixed.jsonl and mixed.parquet: one small table in three formats.

60 rows, two classes ("yes", "no") in the last column "label", and a numeric ("x"), a text
("color"), a boolean ("flag") and a date ("day") column, with a few empty cells. The three
files hold the same cells, written as backprop's readers give them (a float as its shortest
round-trip text, `true`/`false`, `YYYY-MM-DD`), so they load into the same table and train
the same model. Deterministic: a fixed-seed generator, and the same bytes on every run with
the same pyarrow.

    pip install pyarrow
    python crates/backprop-cli/tests/data/make_formats.py
"""

import csv
import datetime
import json
import pathlib
import random

import pyarrow as pa
import pyarrow.parquet as pq

HERE = pathlib.Path(__file__).resolve().parent
ROWS = 60
COLORS = ["red", "green", "blue"]
# (row, column) cells left empty: null in JSON Lines and Parquet, "" in CSV. Row 0 is full,
# so that the JSON Lines keys are first seen in the CSV header's order.
EMPTY = {(3, "x"), (17, "color"), (29, "flag"), (41, "day"), (52, "x"), (52, "color")}
# Rows whose JSON object leaves the empty key out instead of writing null.
OMITTED = {17, 52}
NAMES = ["x", "color", "flag", "day", "label"]


def rows():
    rng = random.Random(10)
    start = datetime.date(2024, 1, 1)
    for i in range(ROWS):
        x = round(rng.uniform(-3, 3), 2)
        color = rng.choice(COLORS)
        flag = rng.random() < 0.5
        day = start + datetime.timedelta(days=rng.randrange(0, 365))
        score = x + (1.5 if flag else -1.5) + (0.5 if color == "red" else 0.0)
        row = {
            "x": x,
            "color": color,
            "flag": flag,
            "day": day,
            "label": "yes" if score > 0 else "no",
        }
        for name in NAMES:
            if (i, name) in EMPTY:
                row[name] = None
        yield row


def text(value):
    """The cell as backprop's readers give it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        # Rust writes an integral float without ".0"; 2-decimal values need no exponent.
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


def main():
    table = list(rows())
    assert {r["label"] for r in table} == {"yes", "no"}

    with open(HERE / "mixed.csv", "w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(NAMES)
        for row in table:
            writer.writerow([text(row[n]) for n in NAMES])

    with open(HERE / "mixed.jsonl", "w") as f:
        for i, row in enumerate(table):
            obj = {}
            for name in NAMES:
                value = row[name]
                if value is None and i in OMITTED:
                    continue
                obj[name] = value.isoformat() if isinstance(value, datetime.date) else value
            f.write(json.dumps(obj) + "\n")

    schema = pa.schema(
        [
            ("x", pa.float64()),
            ("color", pa.string()),
            ("flag", pa.bool_()),
            ("day", pa.date32()),
            ("label", pa.string()),
        ]
    )
    columns = {name: [row[name] for row in table] for name in NAMES}
    pq.write_table(
        pa.table(columns, schema=schema), HERE / "mixed.parquet", compression="snappy"
    )


if __name__ == "__main__":
    main()
