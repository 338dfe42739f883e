"""Writes the data of tests/quality.rs (deterministic; run from anywhere with scikit-learn
installed: python3 make_quality.py).

- iris_train.csv / iris_test.csv: scikit-learn's iris (150 rows, the species as text), split
  75/25 stratified with random_state=0, the first split one would try.
- target50k_train.csv / target50k_test.csv: 400 + 200 rows of five features and a target of
  about 50,000 ± 10,000 (a linear function with a mild curve, plus noise that caps R² near
  0.995): the issue's case of a target far from unit scale.
"""

import os

import numpy as np
from sklearn.datasets import load_iris
from sklearn.model_selection import train_test_split

HERE = os.path.dirname(os.path.abspath(__file__))


def write(name, frame_rows, header):
    with open(os.path.join(HERE, name), "w", encoding="utf-8", newline="") as f:
        f.write(",".join(header) + "\n")
        for row in frame_rows:
            f.write(",".join(row) + "\n")


def iris():
    data = load_iris()
    x_train, x_test, y_train, y_test = train_test_split(
        data.data, data.target, test_size=0.25, random_state=0, stratify=data.target
    )
    header = ["sepal_length", "sepal_width", "petal_length", "petal_width", "species"]
    for name, x, y in (("iris_train.csv", x_train, y_train), ("iris_test.csv", x_test, y_test)):
        rows = [[f"{v:g}" for v in features] + [data.target_names[label]]
                for features, label in zip(x, y)]
        write(name, rows, header)


def target50k():
    rng = np.random.default_rng(50_000)
    x = rng.normal(size=(600, 5))
    signal = x @ np.array([1.0, -0.8, 0.6, 0.4, 0.0]) + 0.3 * x[:, 0] * x[:, 1]
    signal = signal / signal.std()
    y = 50_000 + 10_000 * (signal + 0.07 * rng.normal(size=600))
    header = [f"x{i}" for i in range(5)] + ["price"]
    rows = [[f"{v:.5f}" for v in features] + [f"{target:.2f}"] for features, target in zip(x, y)]
    write("target50k_train.csv", rows[:400], header)
    write("target50k_test.csv", rows[400:], header)


if __name__ == "__main__":
    iris()
    target50k()
