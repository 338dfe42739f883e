"""Writes the PyTorch interop golden files for tests/torch_safetensors.rs.

    python3 make_torch_state_dict.py

- torch_sequential.safetensors: the state dict of
  nn.Sequential(Linear(4, 8), ReLU(), Linear(8, 3)), saved with safetensors.torch.save_file
  (tensor names 0.weight, 0.bias, 2.weight, 2.bias).
- torch_sequential.json: an input batch and torch's outputs (logits) for it.

It then checks the reverse direction: the network re-saved by backprop's naming
(layers.{i}.*) loads back into the same nn.Sequential after renaming layers.{i} -> {2i}.
Needs torch and safetensors; CI does not run it, it only reads the committed files.
"""

import json
import pathlib

import torch
from safetensors.torch import load_file, save_file

HERE = pathlib.Path(__file__).resolve().parent


def main() -> None:
    torch.manual_seed(20240611)
    net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    x = torch.randn(5, 4)
    with torch.no_grad():
        logits = net(x)
    save_file(net.state_dict(), str(HERE / "torch_sequential.safetensors"))
    golden = {
        "inputs": x.tolist(),
        "logits": logits.tolist(),
        "softmax": torch.softmax(logits, dim=1).tolist(),
    }
    (HERE / "torch_sequential.json").write_text(json.dumps(golden, indent=1) + "\n")

    # Reverse direction, with the renaming documented in safetensors_io.rs.
    state = load_file(str(HERE / "torch_sequential.safetensors"))
    as_backprop = {f"layers.{int(k.split('.')[0]) // 2}.{k.split('.')[1]}": v for k, v in state.items()}
    back = {f"{2 * int(k.split('.')[1])}.{k.split('.')[2]}": v for k, v in as_backprop.items()}
    twin = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    twin.load_state_dict(back)
    with torch.no_grad():
        assert torch.equal(twin(x), logits)


if __name__ == "__main__":
    main()
