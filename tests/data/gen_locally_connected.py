#!/usr/bin/env python3
"""Writes tests/data/locally_connected.json: float64 reference outputs of Keras 2.15's
LocallyConnected1D/2D (implementation=1, the default) for channels_first and channels_last.

Pure Python 3 (no numpy, no TensorFlow). The computation follows Keras' source step by step:

keras/layers/locally_connected/locally_connected{1,2}d.py, build() and call():
    kernel shape (output_positions, prod(kernel_size) * input_filter, filters)
    bias shape   (output_length, filters) / (output_row, output_col, filters)
    output = backend.local_conv(inputs, kernel, kernel_size, strides, output_shape, data_format)
    output = backend.bias_add(output, bias, data_format=data_format)

keras/backend.py, local_conv():
    for position in itertools.product(*[range(o) for o in output_shape]):
        slices = [:] (+ [:] for channels_first) + [p*s : p*s+k per spatial dim] (+ [:] for channels_last)
        xs.append(reshape(inputs[slices], (1, -1, feature_dim)))
    output = batch_dot(concatenate(xs, axis=0), kernel)      # (positions, batch, filters)
    output = reshape(output, output_shape + (-1, filters))
    permute to (batch, filters, *spatial) (channels_first) or (batch, *spatial, filters)

keras/backend.py, bias_add() with a bias of rank ndim(x) - 1:
    channels_first: x + reshape(bias, (1, bias_shape[-1]) + bias_shape[:-1])   # a reshape, no transpose
    channels_last:  x + reshape(bias, (1,) + bias_shape)

Inputs and weights are multiples of 1/64 in [-1, 1] from a fixed LCG, so they are exact in
float32 and the C++ test only sees float32 accumulation error.
"""
import itertools
import json
import os


class Lcg:
    def __init__(self, seed):
        self.state = seed & 0xFFFFFFFF

    def next(self):
        self.state = (1664525 * self.state + 1013904223) & 0xFFFFFFFF
        return self.state

    def values(self, n):
        return [((self.next() >> 8) % 129 - 64) / 64.0 for _ in range(n)]


def prod(xs):
    p = 1
    for x in xs:
        p *= x
    return p


class Array:
    """A row-major float64 array: just enough of numpy for the steps above."""

    def __init__(self, shape, data):
        self.shape = tuple(shape)
        self.data = list(data)
        assert len(self.data) == prod(self.shape)

    def strides(self):
        s, acc = [], 1
        for d in reversed(self.shape):
            s.insert(0, acc)
            acc *= d
        return s

    def at(self, idx):
        return self.data[sum(i * s for i, s in zip(idx, self.strides()))]

    def slice(self, ranges):  # one (start, stop) per axis, like inputs[slices]
        shape = [b - a for a, b in ranges]
        data = [self.at(idx) for idx in itertools.product(*[range(a, b) for a, b in ranges])]
        return Array(shape, data)

    def reshape(self, shape):  # row-major, one -1 allowed
        shape = list(shape)
        if -1 in shape:
            shape[shape.index(-1)] = len(self.data) // prod([d for d in shape if d != -1])
        return Array(shape, self.data)

    def permute(self, perm):
        shape = [self.shape[p] for p in perm]
        data = []
        for out_idx in itertools.product(*[range(d) for d in shape]):
            idx = [0] * len(perm)
            for k, p in enumerate(perm):
                idx[p] = out_idx[k]
            data.append(self.at(idx))
        return Array(shape, data)

    def nested(self):
        def build(offset, dims):
            if not dims:
                return self.data[offset]
            step = prod(dims[1:])
            return [build(offset + i * step, dims[1:]) for i in range(dims[0])]

        return build(0, list(self.shape))


def concatenate0(xs):
    return Array((sum(x.shape[0] for x in xs),) + xs[0].shape[1:], [v for x in xs for v in x.data])


def batch_dot(x, k):  # (P, B, D) x (P, D, F) -> (P, B, F)
    P, B, D = x.shape
    _, _, F = k.shape
    out = []
    for p in range(P):
        for b in range(B):
            for f in range(F):
                out.append(sum(x.at((p, b, d)) * k.at((p, d, f)) for d in range(D)))
    return Array((P, B, F), out)


def local_conv(inputs, kernel, kernel_size, strides, output_shape, data_format):
    feature_dim = kernel.shape[1]
    channels_out = kernel.shape[-1]
    ndims = len(output_shape)
    spatial_dimensions = list(range(ndims))
    xs = []
    for position in itertools.product(*[range(o) for o in output_shape]):
        slices = [(0, inputs.shape[0])]
        if data_format == "channels_first":
            slices.append((0, inputs.shape[1]))
        slices.extend(
            (position[d] * strides[d], position[d] * strides[d] + kernel_size[d]) for d in spatial_dimensions
        )
        if data_format == "channels_last":
            slices.append((0, inputs.shape[-1]))
        xs.append(inputs.slice(slices).reshape((1, -1, feature_dim)))
    output = batch_dot(concatenate0(xs), kernel)
    output = output.reshape(tuple(output_shape) + (-1, channels_out))
    if data_format == "channels_first":
        permutation = [ndims, ndims + 1] + spatial_dimensions
    else:
        permutation = [ndims] + spatial_dimensions + [ndims + 1]
    return output.permute(permutation)


def bias_add(x, bias, data_format):
    assert len(bias.shape) == len(x.shape) - 1 and len(x.shape) in (3, 4, 5)
    if data_format == "channels_first":
        b = bias.reshape((1, bias.shape[-1]) + bias.shape[:-1])
    else:
        b = bias.reshape((1,) + bias.shape)
    # Broadcast over the batch dim.
    per_sample = len(b.data)
    return Array(x.shape, [v + b.data[i % per_sample] for i, v in enumerate(x.data)])


def make_case(name, rank, batch, in_channels, spatial, filters, kernel_size, strides, data_format, seed):
    rng = Lcg(seed)
    if data_format == "channels_first":
        input_shape = (batch, in_channels) + tuple(spatial)
    else:
        input_shape = (batch,) + tuple(spatial) + (in_channels,)
    # conv_utils.conv_output_length with padding "valid", dilation 1.
    output_shape = tuple((spatial[d] - kernel_size[d]) // strides[d] + 1 for d in range(rank))
    kernel_shape = (prod(output_shape), prod(kernel_size) * in_channels, filters)
    bias_shape = output_shape + (filters,)
    x = Array(input_shape, rng.values(prod(input_shape)))
    kernel = Array(kernel_shape, rng.values(prod(kernel_shape)))
    bias = Array(bias_shape, rng.values(prod(bias_shape)))
    y = bias_add(local_conv(x, kernel, kernel_size, strides, output_shape, data_format), bias, data_format)
    return {
        "name": name,
        "layer": "LocallyConnected%dD" % rank,
        "options": {
            "filters": filters,
            "kernel_size": list(kernel_size),
            "strides": list(strides),
            "padding": "valid",
            "data_format": data_format,
            "use_bias": True,
            "implementation": 1,
        },
        "input_shape": list(x.shape),
        "kernel_shape": list(kernel.shape),
        "bias_shape": list(bias.shape),
        "output_shape": list(y.shape),
        "input": x.nested(),
        "kernel": kernel.nested(),
        "bias": bias.nested(),
        "expected": y.nested(),
    }


def main():
    cases = [
        make_case("lc1d_channels_last", 1, 2, 3, (7,), 2, (3,), (2,), "channels_last", 11),
        make_case("lc1d_channels_first", 1, 2, 3, (8,), 2, (3,), (2,), "channels_first", 12),
        make_case("lc1d_channels_first_stride1", 1, 1, 2, (5,), 3, (2,), (1,), "channels_first", 13),
        make_case("lc2d_channels_last", 2, 2, 2, (5, 6), 3, (2, 3), (1, 2), "channels_last", 21),
        make_case("lc2d_channels_first", 2, 2, 3, (5, 6), 2, (3, 2), (2, 1), "channels_first", 22),
        make_case("lc2d_channels_first_square", 2, 1, 2, (4, 4), 3, (2, 2), (1, 1), "channels_first", 23),
    ]
    doc = {
        "description": "Keras 2.15 LocallyConnected1D/2D (implementation=1, padding valid) forward, float64; "
        "kernel and bias in Keras' layout. Generated by gen_locally_connected.py.",
        "cases": cases,
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "locally_connected.json")
    with open(path, "w") as f:
        json.dump(doc, f, indent=None, separators=(",", ":"))
        f.write("\n")
    print("wrote %s (%d cases)" % (path, len(cases)))


if __name__ == "__main__":
    main()
