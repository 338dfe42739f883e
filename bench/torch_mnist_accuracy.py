"""PyTorch's test accuracy on the mnist10k CSV files, for the same-config comparison of issue 11.

784-256-128-10 ReLU (PyTorch's default initialization), Adam lr 1e-3, batch 128, 20 epochs,
shuffled every epoch, no validation, no regularization; pixels / 255. Prints the test accuracy
of each seed and the mean, and the backprop command that trains the same network:

    python bench/torch_mnist_accuracy.py [--seeds 0,1,2] [--data /work/shared/data/mnist10k]
    backprop train DATA/mnist10k_train.csv.gz --target label --test DATA/mnist10k_test.csv.gz \\
        --layers 256,128 --optimizer adam --lr 1e-3 --batch-size 128 --epochs 20 --val-fraction 0
"""

import argparse
import os

import numpy as np
import pandas as pd
import torch
from torch import nn


def load(path):
    frame = pd.read_csv(path)
    y = frame.pop("label").to_numpy()
    return torch.tensor(frame.to_numpy(np.float32) / 255.0), torch.tensor(y)


def accuracy(seed, train, test, epochs=20, batch=128):
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(),
                          nn.Linear(128, 10))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    x, y = train
    for _ in range(epochs):
        order = torch.randperm(len(x))
        for start in range(0, len(x), batch):
            rows = order[start:start + batch]
            optimizer.zero_grad()
            loss_fn(model(x[rows]), y[rows]).backward()
            optimizer.step()
    with torch.no_grad():
        predicted = model(test[0]).argmax(dim=1)
    return (predicted == test[1]).float().mean().item()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--data", default="/work/shared/data/mnist10k")
    args = parser.parse_args()
    torch.set_num_threads(os.cpu_count() or 1)
    train = load(os.path.join(args.data, "mnist10k_train.csv.gz"))
    test = load(os.path.join(args.data, "mnist10k_test.csv.gz"))
    scores = []
    for seed in (int(s) for s in args.seeds.split(",")):
        scores.append(accuracy(seed, train, test))
        print(f"seed {seed}: test accuracy {scores[-1]:.4f}", flush=True)
    print(f"mean {np.mean(scores):.4f} over seeds {args.seeds} (PyTorch {torch.__version__})")


if __name__ == "__main__":
    main()
