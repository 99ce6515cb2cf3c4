#!/usr/bin/env python3
"""Writes tests/data/keras215_toy_resnet.json: the string Keras 2.15's `model.to_json()` returns
for the functional API guide's toy ResNet (keras-io guides/functional_api.py, "A toy ResNet
model"), built in a fresh session so the layers get their default names:

    inputs = keras.Input(shape=(32, 32, 3), name="img")
    x = layers.Conv2D(32, 3, activation="relu")(inputs)
    x = layers.Conv2D(64, 3, activation="relu")(x)
    block_1_output = layers.MaxPooling2D(3)(x)
    x = layers.Conv2D(64, 3, activation="relu", padding="same")(block_1_output)
    x = layers.Conv2D(64, 3, activation="relu", padding="same")(x)
    block_2_output = layers.add([x, block_1_output])
    x = layers.Conv2D(64, 3, activation="relu", padding="same")(block_2_output)
    x = layers.Conv2D(64, 3, activation="relu", padding="same")(x)
    block_3_output = layers.add([x, block_2_output])
    x = layers.Conv2D(64, 3, activation="relu")(block_3_output)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dense(256, activation="relu")(x)
    x = layers.Dropout(0.5)(x)
    outputs = layers.Dense(10)(x)
    model = keras.Model(inputs, outputs, name="toy_resnet")

How it was made: TensorFlow can't be installed here, so this is NOT captured from a real Keras
run. It was transcribed by hand from the Keras 2.15.0 source (git tag v2.15.0 of keras-team/keras),
and needs only Python 3's standard library. The dicts are built with their keys in the order the
source inserts them, then dumped with json.dumps at its default settings (no indent, separators
", " and ": "), which is what Keras does. The source functions it follows:

  keras/engine/training.py      Model.to_json: json.dumps(self._updated_config(),
                                default=json_utils.get_json_type); _updated_config:
                                {"class_name": type(self).__name__ ("Functional"), "config",
                                "keras_version": "2.15.0", "backend": "tensorflow"}
  keras/engine/functional.py    Functional.get_config: {"name", "trainable"} and then
                                get_network_config adds "layers", "input_layers", "output_layers".
                                Each layer entry is serialize_keras_object(layer), then "name" and
                                "inbound_nodes" are appended. Layer order comes from
                                _map_graph_network (decreasing depth, ties broken by DFS order).
  keras/engine/node.py          Node.serialize: [[inbound_layer, node_index, tensor_index, kwargs]]
                                per call; kwargs is {} here (the framework-passed `training` arg
                                is popped in base_layer._functional_construction_call)
  keras/saving/serialization_lib.py  serialize_keras_object / serialize_with_public_class:
                                {"module", "class_name", "config", "registered_name"} (the module
                                and class come from the first keras_export name), plus
                                "build_config" when get_build_config() isn't None
  keras/engine/base_layer.py    Layer.get_config: {"name", "trainable", "dtype"};
                                get_build_config: {"input_shape": _build_input_shape}, which
                                _maybe_build sets from the first call's input TensorShape(s)
  keras/engine/input_layer.py   InputLayer.get_config: batch_input_shape, dtype, sparse, ragged,
                                name (no trainable, and no build_config because it is never built)
  keras/layers/convolutional/base_conv.py, pooling/base_pooling2d.py,
  pooling/base_global_pooling2d.py, merging/base_merge.py, core/dense.py,
  regularization/dropout.py     the get_config dicts, merged as
                                dict(list(base_config.items()) + list(config.items())) or, for
                                Dense, config.update
  keras/initializers/initializers.py  GlorotUniform.get_config {"seed": None}; Zeros {}

Run it from the repository root (python3 tests/data/gen_keras_json.py) or from tests/data.
"""
import json
import os

KERAS_VERSION = "2.15.0"  # keras/__init__.py: __version__
BACKEND = "tensorflow"  # keras/backend.py: backend()
FLOATX = "float32"  # default policy: policy.serialize(Policy("float32")) -> "float32"
DATA_FORMAT = "channels_last"  # backend.image_data_format() default


# ---------------------------------------------------------------- serialization_lib
def serialize_with_public_class(module, class_name, inner_config):
    """serialization_lib.serialize_with_public_class for an exported built-in class:
    keras_export("keras.layers.Conv2D", ...) -> module "keras.layers", class_name "Conv2D"."""
    return {
        "module": module,
        "class_name": class_name,
        "config": inner_config,
        "registered_name": None,
    }


def serialize_initializer(class_name, config):
    return serialize_with_public_class("keras.initializers", class_name, config)


def serialize_layer(layer):
    """serialize_keras_object(layer) then get_build_and_compile_config."""
    out = serialize_with_public_class("keras.layers", layer.class_name, layer.get_config())
    build_config = layer.get_build_config()
    if build_config is not None:
        out["build_config"] = build_config
    return out


def merge(base_config, config):
    """dict(list(base_config.items()) + list(config.items()))"""
    return dict(list(base_config.items()) + list(config.items()))


# ---------------------------------------------------------------- shapes
def conv_output_length(input_length, filter_size, padding, stride, dilation=1):
    """keras/utils/conv_utils.py conv_output_length."""
    if input_length is None:
        return None
    dilated_filter_size = filter_size + (filter_size - 1) * (dilation - 1)
    if padding in ("same", "causal"):
        output_length = input_length
    elif padding == "valid":
        output_length = input_length - dilated_filter_size + 1
    else:  # "full"
        output_length = input_length + dilated_filter_size - 1
    return (output_length + stride - 1) // stride


def normalize_tuple(value, n):
    """conv_utils.normalize_tuple: an int becomes (value,) * n; a sequence becomes tuple(value)."""
    if isinstance(value, int):
        return (value,) * n
    return tuple(value)


# ---------------------------------------------------------------- graph
class KerasTensor:
    def __init__(self, shape, layer, node_index, tensor_index):
        self.shape = tuple(shape)
        self._keras_history = (layer, node_index, tensor_index)


class Node:
    def __init__(self, layer, inputs, outputs, is_input=False):
        self.layer = layer
        self.inputs = inputs  # a KerasTensor, a list of them, or None for an input node
        self.outputs = outputs
        self.is_input = is_input

    def keras_inputs(self):
        if self.inputs is None:
            return []
        return list(self.inputs) if isinstance(self.inputs, list) else [self.inputs]


class Layer:
    class_name = None

    def __init__(self, name):
        self.name = name
        self.trainable = True
        self._inbound_nodes = []
        self._build_input_shape = None
        self.built = False

    def base_config(self):
        """Layer.get_config (base_layer.py): name, trainable, dtype."""
        return {"name": self.name, "trainable": self.trainable, "dtype": FLOATX}

    def get_build_config(self):
        """Layer.get_build_config: None until _maybe_build has stored the input shape(s)."""
        if self._build_input_shape is not None:
            shape = self._build_input_shape
            if isinstance(shape, list):
                return {"input_shape": [list(s) for s in shape]}
            return {"input_shape": list(shape)}
        return None

    def __call__(self, inputs):
        if not self.built:  # _maybe_build -> Layer.build(self, input_shapes)
            if isinstance(inputs, list):
                self._build_input_shape = [t.shape for t in inputs]
            else:
                self._build_input_shape = inputs.shape
            self.built = True
        shape = self.output_shape(
            [t.shape for t in inputs] if isinstance(inputs, list) else inputs.shape
        )
        out = KerasTensor(shape, self, len(self._inbound_nodes), 0)
        self._inbound_nodes.append(Node(self, inputs, out))
        return out


class InputLayer(Layer):
    class_name = "InputLayer"

    def __init__(self, shape, name):
        super().__init__(name)
        self.built = True  # InputLayer.__init__ sets built without calling build
        self._batch_input_shape = (None,) + tuple(shape)
        self.output = KerasTensor(self._batch_input_shape, self, 0, 0)
        self._inbound_nodes.append(Node(self, None, self.output, is_input=True))

    def get_config(self):
        return {
            "batch_input_shape": self._batch_input_shape,
            "dtype": FLOATX,
            "sparse": False,
            "ragged": False,
            "name": self.name,
        }


class Conv2D(Layer):
    class_name = "Conv2D"

    def __init__(self, name, filters, kernel_size, strides=(1, 1), padding="valid",
                 dilation_rate=(1, 1), groups=1, activation=None, use_bias=True):
        super().__init__(name)
        self.filters = filters
        self.groups = groups
        self.kernel_size = normalize_tuple(kernel_size, 2)
        self.strides = normalize_tuple(strides, 2)
        self.padding = padding.lower()
        self.data_format = DATA_FORMAT
        self.dilation_rate = normalize_tuple(dilation_rate, 2)
        self.activation = activation or "linear"  # activations.get(None) is linear
        self.use_bias = use_bias

    def get_config(self):
        """base_conv.py Conv.get_config."""
        config = {
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": self.dilation_rate,
            "groups": self.groups,
            "activation": self.activation,
            "use_bias": self.use_bias,
            "kernel_initializer": serialize_initializer("GlorotUniform", {"seed": None}),
            "bias_initializer": serialize_initializer("Zeros", {}),
            "kernel_regularizer": None,
            "bias_regularizer": None,
            "activity_regularizer": None,
            "kernel_constraint": None,
            "bias_constraint": None,
        }
        return merge(self.base_config(), config)

    def output_shape(self, s):
        rows = conv_output_length(s[1], self.kernel_size[0], self.padding, self.strides[0],
                                  self.dilation_rate[0])
        cols = conv_output_length(s[2], self.kernel_size[1], self.padding, self.strides[1],
                                  self.dilation_rate[1])
        return (s[0], rows, cols, self.filters)


class MaxPooling2D(Layer):
    class_name = "MaxPooling2D"

    def __init__(self, name, pool_size=(2, 2), strides=None, padding="valid"):
        super().__init__(name)
        if strides is None:
            strides = pool_size
        self.pool_size = normalize_tuple(pool_size, 2)
        self.strides = normalize_tuple(strides, 2)
        self.padding = padding.lower()
        self.data_format = DATA_FORMAT

    def get_config(self):
        """base_pooling2d.py Pooling2D.get_config (pool_size, padding, strides, data_format)."""
        config = {
            "pool_size": self.pool_size,
            "padding": self.padding,
            "strides": self.strides,
            "data_format": self.data_format,
        }
        return merge(self.base_config(), config)

    def output_shape(self, s):
        rows = conv_output_length(s[1], self.pool_size[0], self.padding, self.strides[0])
        cols = conv_output_length(s[2], self.pool_size[1], self.padding, self.strides[1])
        return (s[0], rows, cols, s[3])


class Add(Layer):
    class_name = "Add"

    def get_config(self):
        """base_merge.py _Merge.get_config: just the base Layer config."""
        return self.base_config()

    def output_shape(self, shapes):
        return shapes[0]


class GlobalAveragePooling2D(Layer):
    class_name = "GlobalAveragePooling2D"

    def __init__(self, name, keepdims=False):
        super().__init__(name)
        self.data_format = DATA_FORMAT
        self.keepdims = keepdims

    def get_config(self):
        """base_global_pooling2d.py GlobalPooling2D.get_config."""
        config = {"data_format": self.data_format, "keepdims": self.keepdims}
        return merge(self.base_config(), config)

    def output_shape(self, s):
        return (s[0], s[3])


class Dense(Layer):
    class_name = "Dense"

    def __init__(self, name, units, activation=None, use_bias=True):
        super().__init__(name)
        self.units = units
        self.activation = activation or "linear"
        self.use_bias = use_bias

    def get_config(self):
        """core/dense.py Dense.get_config: config = super().get_config(); config.update({...})."""
        config = self.base_config()
        config.update(
            {
                "units": self.units,
                "activation": self.activation,
                "use_bias": self.use_bias,
                "kernel_initializer": serialize_initializer("GlorotUniform", {"seed": None}),
                "bias_initializer": serialize_initializer("Zeros", {}),
                "kernel_regularizer": None,
                "bias_regularizer": None,
                "activity_regularizer": None,
                "kernel_constraint": None,
                "bias_constraint": None,
            }
        )
        return config

    def output_shape(self, s):
        return tuple(s[:-1]) + (self.units,)


class Dropout(Layer):
    class_name = "Dropout"

    def __init__(self, name, rate, noise_shape=None, seed=None):
        super().__init__(name)
        self.rate = rate
        self.noise_shape = noise_shape
        self.seed = seed

    def get_config(self):
        """regularization/dropout.py Dropout.get_config."""
        config = {"rate": self.rate, "noise_shape": self.noise_shape, "seed": self.seed}
        return merge(self.base_config(), config)

    def output_shape(self, s):
        return s


# ---------------------------------------------------------------- functional.py
def make_node_key(layer_name, node_index):
    return layer_name + "_ib-" + str(node_index)


def map_graph_network(inputs, outputs):
    """functional.py _map_graph_network / _build_map: layers by decreasing depth, ties by the
    order the DFS from the outputs first meets them. Returns (network node keys, layers)."""
    finished, in_progress, nodes_in_decreasing_depth, layer_indices = set(), set(), [], {}

    def helper(tensor):
        layer, node_index, _ = tensor._keras_history
        node = layer._inbound_nodes[node_index]
        if id(node) in finished:
            return
        assert id(node) not in in_progress, "cycle"
        if layer not in layer_indices:
            layer_indices[layer] = len(layer_indices)
        in_progress.add(id(node))
        if not node.is_input:
            for t in node.keras_inputs():
                helper(t)
        finished.add(id(node))
        in_progress.discard(id(node))
        nodes_in_decreasing_depth.append(node)

    for out in outputs:
        helper(out)

    network_nodes = {
        make_node_key(n.layer.name, n.layer._inbound_nodes.index(n))
        for n in nodes_in_decreasing_depth
    }
    nodes_depths, layers_depths = {}, {}
    for node in reversed(nodes_in_decreasing_depth):
        depth = nodes_depths.setdefault(id(node), 0)
        depth = max(depth, layers_depths.get(node.layer, 0))
        layers_depths[node.layer] = depth
        nodes_depths[id(node)] = depth
        for t in node.keras_inputs():
            layer, node_index, _ = t._keras_history
            dep = layer._inbound_nodes[node_index]
            nodes_depths[id(dep)] = max(depth + 1, nodes_depths.get(id(dep), 0))
    for t in inputs:
        input_layer = t._keras_history[0]
        if input_layer not in layers_depths:
            layers_depths[input_layer] = 0
            layer_indices[input_layer] = -1
    layers_by_depth = {}
    for layer, depth in layers_depths.items():
        layers_by_depth.setdefault(depth, []).append(layer)
    layers = []
    for depth in sorted(layers_by_depth, reverse=True):
        layers.extend(sorted(layers_by_depth[depth], key=lambda x: layer_indices[x]))
    return network_nodes, layers


def should_skip_first_node(layer):
    return False  # only nested Functional/Sequential models skip their first node


def serialize_node(node, node_conversion_map):
    """node.py Node.serialize: each tensor of the first call argument becomes
    [layer_name, new_node_index, tensor_index, kwargs]; a lone tensor is wrapped in a list."""
    kwargs = {}

    def first_arg_tensor(t):
        layer, node_index, tensor_index = t._keras_history
        new_node_index = node_conversion_map.get(make_node_key(layer.name, node_index), 0)
        return [layer.name, new_node_index, tensor_index, kwargs]

    if isinstance(node.inputs, list):
        return [first_arg_tensor(t) for t in node.inputs]
    return [first_arg_tensor(node.inputs)]


class Functional:
    def __init__(self, inputs, outputs, name):
        self.name = name
        self.trainable = True
        self.inputs = [inputs]
        self.outputs = [outputs]
        self._network_nodes, self.layers = map_graph_network(self.inputs, self.outputs)

    def get_network_config(self, config):
        config["name"] = self.name
        node_conversion_map = {}
        for layer in self.layers:
            kept_nodes = 1 if should_skip_first_node(layer) else 0
            for original_node_index, _ in enumerate(layer._inbound_nodes):
                node_key = make_node_key(layer.name, original_node_index)
                if node_key in self._network_nodes:
                    node_conversion_map[node_key] = kept_nodes
                    kept_nodes += 1
        layer_configs = []
        for layer in self.layers:
            filtered_inbound_nodes = []
            for original_node_index, node in enumerate(layer._inbound_nodes):
                node_key = make_node_key(layer.name, original_node_index)
                if node_key in self._network_nodes and not node.is_input:
                    filtered_inbound_nodes.append(serialize_node(node, node_conversion_map))
            layer_config = serialize_layer(layer)
            layer_config["name"] = layer.name
            layer_config["inbound_nodes"] = filtered_inbound_nodes
            layer_configs.append(layer_config)
        config["layers"] = layer_configs

        def coordinates(tensors):
            out = []
            for t in tensors:
                layer, node_index, tensor_index = t._keras_history
                new_node_index = node_conversion_map[make_node_key(layer.name, node_index)]
                out.append([layer.name, new_node_index, tensor_index])
            return out

        # A single (non-nested) input or output is still wrapped in a list.
        config["input_layers"] = coordinates(self.inputs)
        config["output_layers"] = coordinates(self.outputs)
        return config

    def get_config(self):
        return self.get_network_config({"name": self.name, "trainable": self.trainable})

    def to_json(self):
        model_config = {
            "class_name": "Functional",
            "config": self.get_config(),
            "keras_version": KERAS_VERSION,
            "backend": BACKEND,
        }
        return json.dumps(model_config)


def toy_resnet():
    img = InputLayer((32, 32, 3), name="img")
    inputs = img.output
    x = Conv2D("conv2d", 32, 3, activation="relu")(inputs)
    x = Conv2D("conv2d_1", 64, 3, activation="relu")(x)
    block_1_output = MaxPooling2D("max_pooling2d", 3)(x)

    x = Conv2D("conv2d_2", 64, 3, activation="relu", padding="same")(block_1_output)
    x = Conv2D("conv2d_3", 64, 3, activation="relu", padding="same")(x)
    block_2_output = Add("add")([x, block_1_output])

    x = Conv2D("conv2d_4", 64, 3, activation="relu", padding="same")(block_2_output)
    x = Conv2D("conv2d_5", 64, 3, activation="relu", padding="same")(x)
    block_3_output = Add("add_1")([x, block_2_output])

    x = Conv2D("conv2d_6", 64, 3, activation="relu")(block_3_output)
    x = GlobalAveragePooling2D("global_average_pooling2d")(x)
    x = Dense("dense", 256, activation="relu")(x)
    x = Dropout("dropout", 0.5)(x)
    outputs = Dense("dense_1", 10)(x)
    return Functional(inputs, outputs, name="toy_resnet")


def main():
    text = toy_resnet().to_json()
    json.loads(text)  # must parse
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "keras215_toy_resnet.json")
    with open(path, "w") as f:
        f.write(text)  # exactly the to_json() string: no trailing newline


if __name__ == "__main__":
    main()
