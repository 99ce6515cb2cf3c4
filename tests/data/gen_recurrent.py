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
flipped sequence. Masks (keras_sequence below): a masked step is skipped, the state carries over
and the step's output is the previous one; the masked cases' inputs are zero there (what Masking
keys on), and the tests run them through Masking. Bidirectional: a layer each way, the backward
one's outputs flipped back into step order, zeros at masked steps with return_sequences (Keras
forces zero_output_for_mask there), merged by concat, sum, mul or ave. Each case stores the weights, the input, a projection p, the layer's output y
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


def make_rnn(layer, features, units, reset_after):
    """The layer's weights in Keras' layout (leaf tensors), run(x) -> every step's h for x
    (batch, steps, features) read in order, and finish(), which puts the gradients of a PyTorch
    module back into those leaves in Keras' layout."""
    gates = {"simple_rnn": 1, "lstm": 4, "gru": 3}[layer]
    kernel = (torch.randn(features, gates * units) * 0.5).requires_grad_(True)
    recurrent = (torch.randn(units, gates * units) * 0.5).requires_grad_(True)
    bias_shape = (2, gates * units) if layer == "gru" and reset_after else (gates * units,)
    bias = (torch.randn(*bias_shape) * 0.3).requires_grad_(True)
    params = {"kernel": kernel, "recurrent_kernel": recurrent, "bias": bias}
    if layer == "gru" and not reset_after:
        return params, lambda xin: gru_keras_reset_before(xin, kernel, recurrent, bias), lambda: None
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

    def finish():
        if layer == "gru":
            kernel.grad = swap_rz(module.weight_ih_l0.grad).T
            recurrent.grad = swap_rz(module.weight_hh_l0.grad).T
            bias.grad = torch.stack([swap_rz(module.bias_ih_l0.grad), swap_rz(module.bias_hh_l0.grad)])
        else:
            kernel.grad = module.weight_ih_l0.grad.T
            recurrent.grad = module.weight_hh_l0.grad.T
            bias.grad = module.bias_ih_l0.grad
    return params, lambda xin: module(xin)[0], finish


def keras_sequence(run, x, mask, go_backwards, units):
    """Keras' recurrent loop (backend.rnn) over x (batch, steps, features), outputs in reading
    order. A masked step is skipped: the state carries over and the step's output is the previous
    one (zeros before any step was read). Written independently of that rule: each sample's read
    steps alone go through the module, and the outputs are spread back over the masked steps."""
    batch, steps, _ = x.shape
    order = list(range(steps))[::-1] if go_backwards else list(range(steps))
    if mask is None:
        return run(x[:, order])
    rows = []
    for b in range(batch):
        read = [t for t in order if mask[b][t]]
        h = run(x[b:b + 1, read])[0] if read else None
        out, k = [], 0
        for t in order:
            k += 1 if mask[b][t] else 0
            out.append(h[k - 1] if k > 0 else torch.zeros(units))
        rows.append(torch.stack(out))
    return torch.stack(rows)


# Every kind of sample: all steps read, right padding, left padding, holes, none read.
def test_mask(batch, steps):
    kinds = [lambda t: True, lambda t: t < steps - 2, lambda t: t >= 2, lambda t: t % 3 != 1, lambda t: False]
    return [[1 if kinds[b % len(kinds)](t) else 0 for t in range(steps)] for b in range(batch)]


def case(layer, name, batch, steps, features, units, return_sequences, go_backwards, reset_after=True,
         masked=False, merge_mode=None):
    """merge_mode: a Bidirectional of the layer (forward reading as go_backwards says, backward
    the other way), merged so; None: the layer alone."""
    directions = [go_backwards] + ([not go_backwards] if merge_mode else [])
    rnns = [make_rnn(layer, features, units, reset_after) for _ in directions]
    x = torch.randn(batch, steps, features)
    mask = test_mask(batch, steps) if masked else None
    if mask:  # the masked steps' features are Masking's mask_value, 0
        x = x * torch.tensor(mask, dtype=torch.float64)[:, :, None]
    xi = x.clone().requires_grad_(True)
    ys = []
    for (params, run, finish), backwards in zip(rnns, directions):
        seq = keras_sequence(run, xi, mask, backwards, units)
        ys.append(seq if return_sequences else seq[:, -1, :])
    if merge_mode:
        y_fwd, y_bwd = ys
        if return_sequences:
            y_bwd = torch.flip(y_bwd, [1])
            if mask:  # Bidirectional forces zero_output_for_mask
                m = torch.tensor(mask, dtype=torch.float64)[:, :, None]
                y_fwd, y_bwd = y_fwd * m, y_bwd * m
        y = {"concat": lambda: torch.cat([y_fwd, y_bwd], -1), "sum": lambda: y_fwd + y_bwd,
             "mul": lambda: y_fwd * y_bwd, "ave": lambda: (y_fwd + y_bwd) / 2}[merge_mode]()
    else:
        y = ys[0]
    p = torch.randn(y.shape)
    (y * p).sum().backward()
    weights = []
    for params, run, finish in rnns:
        finish()
        w = {k: v.tolist() for k, v in params.items()}
        w.update({"d" + k: v.grad.tolist() for k, v in params.items()})
        weights.append(w)
    out = {
        "layer": layer, "name": name, "units": units, "return_sequences": return_sequences,
        "go_backwards": go_backwards, "reset_after": reset_after, "mask": mask, "merge_mode": merge_mode,
        "x": x.tolist(), "projection": p.tolist(), "y": y.detach().tolist(), "dx": xi.grad.tolist(),
    }
    if merge_mode:
        out["forward"], out["backward"] = weights
    else:
        out.update(weights[0])
    return out


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
    case("lstm", "lstm masked sequences", 5, 6, 3, 4, True, False, masked=True),
    case("lstm", "lstm masked go_backwards last step", 5, 6, 3, 4, False, True, masked=True),
    case("gru", "gru masked last step", 5, 6, 3, 3, False, False, masked=True),
    case("gru", "gru reset_before masked go_backwards sequences", 5, 5, 2, 3, True, True, reset_after=False,
         masked=True),
    case("simple_rnn", "simple_rnn masked sequences", 5, 6, 4, 3, True, False, masked=True),
    case("lstm", "bidirectional lstm concat sequences", 3, 5, 3, 4, True, False, merge_mode="concat"),
    case("gru", "bidirectional gru sum last step", 3, 5, 3, 3, False, False, merge_mode="sum"),
    case("lstm", "bidirectional lstm masked ave sequences", 5, 6, 3, 3, True, False, masked=True, merge_mode="ave"),
    case("gru", "bidirectional gru masked concat last step", 5, 6, 3, 4, False, False, masked=True,
         merge_mode="concat"),
    case("simple_rnn", "bidirectional simple_rnn masked mul sequences", 5, 5, 2, 3, True, False, masked=True,
         merge_mode="mul"),
]
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "recurrent.json")
with open(out, "w") as f:
    json.dump({"generator": "tests/data/gen_recurrent.py", "torch": torch.__version__, "cases": cases}, f)
print("wrote", out)
