#!/usr/bin/env python3
"""Writes tests/data/lstm.json: Keras' LSTM computed in float64 by an independent implementation,
PyTorch's nn.LSTM (Debian's python3-torch), for tests/layers/test_lstm.cpp.

Keras' weights map onto PyTorch's directly: both order the gates i, f, c (g), o, so
weight_ih = kernel^T (4 units, features), weight_hh = recurrent_kernel^T, bias_ih = bias and
bias_hh = 0. Keras' go_backwards reads the sequence from its end and returns the outputs in that
order: PyTorch run on the flipped sequence. Each case stores the weights, the input, a projection
p, the layer's output y and the gradients of sum(y * p) with respect to the input and every
weight. Values are drawn with a fixed seed, so the file is deterministic.

Run from the repository root: /usr/bin/python3 tests/data/gen_lstm.py
"""
import json
import os

import torch

torch.manual_seed(7)
torch.set_default_dtype(torch.float64)


def case(name, batch, steps, features, units, return_sequences, go_backwards):
    kernel = torch.randn(features, 4 * units) * 0.5
    recurrent = torch.randn(units, 4 * units) * 0.5
    bias = torch.randn(4 * units) * 0.3
    x = torch.randn(batch, steps, features)
    lstm = torch.nn.LSTM(features, units, batch_first=True)
    with torch.no_grad():
        lstm.weight_ih_l0.copy_(kernel.T)
        lstm.weight_hh_l0.copy_(recurrent.T)
        lstm.bias_ih_l0.copy_(bias)
        lstm.bias_hh_l0.zero_()
    xi = x.clone().requires_grad_(True)
    seq, _ = lstm(torch.flip(xi, [1]) if go_backwards else xi)
    y = seq if return_sequences else seq[:, -1, :]
    p = torch.randn(y.shape)
    (y * p).sum().backward()
    return {
        "name": name, "units": units, "return_sequences": return_sequences, "go_backwards": go_backwards,
        "kernel": kernel.tolist(), "recurrent_kernel": recurrent.tolist(), "bias": bias.tolist(),
        "x": x.tolist(), "projection": p.tolist(), "y": y.detach().tolist(),
        "dx": xi.grad.tolist(), "dkernel": lstm.weight_ih_l0.grad.T.tolist(),
        "drecurrent_kernel": lstm.weight_hh_l0.grad.T.tolist(), "dbias": lstm.bias_ih_l0.grad.tolist(),
    }


cases = [
    case("last_step", 3, 5, 4, 3, False, False),
    case("sequences", 2, 6, 3, 5, True, False),
    case("go_backwards_sequences", 3, 4, 2, 4, True, True),
    case("go_backwards_last_step", 2, 7, 5, 2, False, True),
]
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "lstm.json")
with open(out, "w") as f:
    json.dump({"generator": "tests/data/gen_lstm.py", "torch": torch.__version__, "cases": cases}, f)
print("wrote", out)
