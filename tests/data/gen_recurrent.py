#!/usr/bin/env python3
"""Writes tests/data/recurrent.json: Keras' SimpleRNN, LSTM and GRU computed in float64 by
independent implementations, for tests/layers/test_recurrent_layers.cpp:

- LSTM: PyTorch's nn.LSTM (Debian's python3-torch). Both order the gates i, f, c (g), o, so
  weight_ih = kernel^T (4 units, features), weight_hh = recurrent_kernel^T, bias_ih = bias and
  bias_hh = 0.
- GRU with reset_after (Keras 2's default): PyTorch's nn.GRU, which also applies the reset gate
  after the recurrent product. PyTorch orders the gates r, z, n and Keras z, r, h: weight_ih is
  kernel^T with its first two blocks of rows swapped, and bias (2, 3 units) is (bias_ih, bias_hh).
- GRU without reset_after: no PyTorch module has it, so it is written here with float64 tensor
  ops from Keras 2.15's GRUCell.call (keras/layers/rnn/gru.py):
      z = sigmoid(x_z + h U_z); r = sigmoid(x_r + h U_r); hh = tanh(x_h + (r * h) U_h)
      h = z * h + (1 - z) * hh,   x_g = x kernel + bias.
- SimpleRNN: PyTorch's nn.RNN (tanh): weight_ih = kernel^T, weight_hh = recurrent_kernel^T.

Keras' go_backwards reads the sequence from its end and returns the outputs in that order: the
flipped sequence. Each case stores the weights, the input, a projection p, the layer's output y
and the gradients of sum(y * p) with respect to the input and every weight. Seeded: the file is
deterministic. Run from the repository root: /usr/bin/python3 tests/data/gen_recurrent.py
"""
import json
import os

import torch

torch.manual_seed(7)
torch.set_default_dtype(torch.float64)


def swap_rz(m):
    """Keras' z, r, h blocks (along dim 0) <-> PyTorch's r, z, n."""
    u = m.shape[0] // 3
    return torch.cat([m[u:2 * u], m[:u], m[2 * u:]])


def gru_keras_reset_before(x, kernel, recurrent, bias):
    units = recurrent.shape[0]
    h = torch.zeros(x.shape[0], units)
    outs = []
    for t in range(x.shape[1]):
        xg = x[:, t] @ kernel + bias
        z = torch.sigmoid(xg[:, :units] + h @ recurrent[:, :units])
        r = torch.sigmoid(xg[:, units:2 * units] + h @ recurrent[:, units:2 * units])
        hh = torch.tanh(xg[:, 2 * units:] + (r * h) @ recurrent[:, 2 * units:])
        h = z * h + (1 - z) * hh
        outs.append(h)
    return torch.stack(outs, 1)


def case(layer, name, batch, steps, features, units, return_sequences, go_backwards, reset_after=True):
    gates = {"simple_rnn": 1, "lstm": 4, "gru": 3}[layer]
    kernel = (torch.randn(features, gates * units) * 0.5).requires_grad_(True)
    recurrent = (torch.randn(units, gates * units) * 0.5).requires_grad_(True)
    bias_shape = (2, gates * units) if layer == "gru" and reset_after else (gates * units,)
    bias = (torch.randn(*bias_shape) * 0.3).requires_grad_(True)
    x = torch.randn(batch, steps, features)
    xi = x.clone().requires_grad_(True)
    xin = torch.flip(xi, [1]) if go_backwards else xi
    if layer == "gru" and not reset_after:
        seq = gru_keras_reset_before(xin, kernel, recurrent, bias)
    else:
        module = {"simple_rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[layer](
            features, units, batch_first=True)
        with torch.no_grad():
            if layer == "gru":
                module.weight_ih_l0.copy_(swap_rz(kernel.T))
                module.weight_hh_l0.copy_(swap_rz(recurrent.T))
                module.bias_ih_l0.copy_(swap_rz(bias[0]))
                module.bias_hh_l0.copy_(swap_rz(bias[1]))
            else:
                module.weight_ih_l0.copy_(kernel.T)
                module.weight_hh_l0.copy_(recurrent.T)
                module.bias_ih_l0.copy_(bias)
                module.bias_hh_l0.zero_()
        seq = module(xin)[0]
    y = seq if return_sequences else seq[:, -1, :]
    p = torch.randn(y.shape)
    (y * p).sum().backward()
    if not (layer == "gru" and not reset_after):
        # The module's gradients, back in Keras' layout.
        if layer == "gru":
            kernel.grad = swap_rz(module.weight_ih_l0.grad).T
            recurrent.grad = swap_rz(module.weight_hh_l0.grad).T
            bias.grad = torch.stack([swap_rz(module.bias_ih_l0.grad), swap_rz(module.bias_hh_l0.grad)])
        else:
            kernel.grad = module.weight_ih_l0.grad.T
            recurrent.grad = module.weight_hh_l0.grad.T
            bias.grad = module.bias_ih_l0.grad
    return {
        "layer": layer, "name": name, "units": units, "return_sequences": return_sequences,
        "go_backwards": go_backwards, "reset_after": reset_after,
        "kernel": kernel.tolist(), "recurrent_kernel": recurrent.tolist(), "bias": bias.tolist(),
        "x": x.tolist(), "projection": p.tolist(), "y": y.detach().tolist(),
        "dx": xi.grad.tolist(), "dkernel": kernel.grad.tolist(),
        "drecurrent_kernel": recurrent.grad.tolist(), "dbias": bias.grad.tolist(),
    }


cases = [
    case("lstm", "lstm last step", 3, 5, 4, 3, False, False),
    case("lstm", "lstm sequences", 2, 6, 3, 5, True, False),
    case("lstm", "lstm go_backwards sequences", 3, 4, 2, 4, True, True),
    case("lstm", "lstm go_backwards last step", 2, 7, 5, 2, False, True),
    case("gru", "gru reset_after last step", 3, 5, 4, 3, False, False),
    case("gru", "gru reset_after go_backwards sequences", 2, 6, 3, 4, True, True),
    case("gru", "gru reset_before sequences", 3, 4, 2, 3, True, False, reset_after=False),
    case("gru", "gru reset_before go_backwards last step", 2, 5, 3, 2, False, True, reset_after=False),
    case("simple_rnn", "simple_rnn last step", 3, 5, 4, 3, False, False),
    case("simple_rnn", "simple_rnn go_backwards sequences", 2, 6, 3, 4, True, True),
]
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "recurrent.json")
with open(out, "w") as f:
    json.dump({"generator": "tests/data/gen_recurrent.py", "torch": torch.__version__, "cases": cases}, f)
print("wrote", out)
