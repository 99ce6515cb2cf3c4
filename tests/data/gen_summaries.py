"""Expected model.summary() tables, printed by a transcription of Keras 2.15's print_summary
(keras/utils/layer_utils.py: print_row, line lengths and positions, the blank row after every
layer, the totals without digit grouping and readable_memory_size). The rows (names, types, output
shapes, parameter counts, connections) are written out by hand as Keras names and counts them for
the models of tests/layers/test_functional.cpp. Run: python3 gen_summaries.py (writes summaries.json)."""
import json


def readable_memory_size(size):  # layer_utils.readable_memory_size
    units = ["Byte", "KB", "MB", "GB", "TB", "PB"]
    for unit in units:
        if size / 1024 < 1:
            return "{:.2f} {}".format(size, unit)
        size /= 1024
    return "{:.2f} {}".format(size, units[-1])


def print_summary(name, rows, trainable, non_trainable, sequential_like):
    out = []
    print_fn = out.append
    if sequential_like:
        line_length, positions = 65, [0.45, 0.85, 1.0]
        to_display = ["Layer (type)", "Output Shape", "Param #"]
    else:
        line_length, positions = 98, [0.3, 0.6, 0.70, 1.0]
        to_display = ["Layer (type)", "Output Shape", "Param #", "Connected to"]
    positions = [int(line_length * p) for p in positions]

    def print_row(fields, positions, nested_level=0):  # verbatim from Keras 2.15
        left_to_print = [str(x) for x in fields]
        while any(left_to_print):
            line = ""
            for col in range(len(left_to_print)):
                if col > 0:
                    start_pos = positions[col - 1]
                else:
                    start_pos = 0
                end_pos = positions[col]
                space = 2 if col != len(positions) - 1 else 0
                cutoff = end_pos - start_pos - space
                if col != len(positions) - 1:
                    cutoff -= 1
                if col == 0:
                    cutoff -= nested_level
                fit_into_line = left_to_print[col][:cutoff]
                line_break_conditions = ("),", "},", "],", "',")
                candidate_cutoffs = [
                    fit_into_line.find(x) + len(x)
                    for x in line_break_conditions
                    if fit_into_line.find(x) >= 0
                ]
                if candidate_cutoffs:
                    cutoff = min(candidate_cutoffs)
                    fit_into_line = fit_into_line[:cutoff]
                if col == 0:
                    line += "|" * nested_level + " "
                line += fit_into_line
                line += " " * space if space else ""
                left_to_print[col] = left_to_print[col][cutoff:]
                if nested_level and col == len(positions) - 1:
                    line += " " * (positions[col] - len(line) - nested_level)
                else:
                    line += " " * (positions[col] - len(line))
            line += "|" * nested_level
            print_fn(line)

    print_fn(f'Model: "{name}"')
    print_fn("_" * line_length)
    print_row(to_display, positions)
    print_fn("=" * line_length)
    for row in rows:
        fields = list(row[:3]) if sequential_like else [row[0], row[1], row[2], row[3]]
        print_row(fields, positions)
        print_fn(" " * line_length)  # print_layer: a blank row after every top-level layer
    print_fn("=" * line_length)
    print_fn(f"Total params: {trainable + non_trainable} ({readable_memory_size(4 * (trainable + non_trainable))})")
    print_fn(f"Trainable params: {trainable} ({readable_memory_size(4 * trainable)})")
    print_fn(f"Non-trainable params: {non_trainable} ({readable_memory_size(4 * non_trainable)})")
    print_fn("_" * line_length)
    return "\n".join(out) + "\n"


summaries = {}

# The Keras functional API guide's toy ResNet (keras-io guides/functional_api.py, "A toy ResNet
# model"): Conv2D and Dense parameter counts are k*k*cin*cout + cout and in*out + out.
toy = [
    ("img (InputLayer)", "[(None, 32, 32, 3)]", 0, []),
    ("conv2d (Conv2D)", "(None, 30, 30, 32)", 896, ["img[0][0]"]),
    ("conv2d_1 (Conv2D)", "(None, 28, 28, 64)", 18496, ["conv2d[0][0]"]),
    ("max_pooling2d (MaxPooling2D)", "(None, 9, 9, 64)", 0, ["conv2d_1[0][0]"]),
    ("conv2d_2 (Conv2D)", "(None, 9, 9, 64)", 36928, ["max_pooling2d[0][0]"]),
    ("conv2d_3 (Conv2D)", "(None, 9, 9, 64)", 36928, ["conv2d_2[0][0]"]),
    ("add (Add)", "(None, 9, 9, 64)", 0, ["conv2d_3[0][0]", "max_pooling2d[0][0]"]),
    ("conv2d_4 (Conv2D)", "(None, 9, 9, 64)", 36928, ["add[0][0]"]),
    ("conv2d_5 (Conv2D)", "(None, 9, 9, 64)", 36928, ["conv2d_4[0][0]"]),
    ("add_1 (Add)", "(None, 9, 9, 64)", 0, ["conv2d_5[0][0]", "add[0][0]"]),
    ("conv2d_6 (Conv2D)", "(None, 7, 7, 64)", 36928, ["add_1[0][0]"]),
    ("global_average_pooling2d (GlobalAveragePooling2D)", "(None, 64)", 0, ["conv2d_6[0][0]"]),
    ("dense (Dense)", "(None, 256)", 16640, ["global_average_pooling2d[0][0]"]),
    ("dropout (Dropout)", "(None, 256)", 0, ["dense[0][0]"]),
    ("dense_1 (Dense)", "(None, 10)", 2570, ["dropout[0][0]"]),
]
summaries["toy_resnet"] = print_summary("toy_resnet", toy, sum(r[2] for r in toy), 0, False)

# The guide's first model, a chain: the Sequential-style table, the Input's shape as a list.
mnist = [
    ("input_1 (InputLayer)", "[(None, 784)]", 0),
    ("dense (Dense)", "(None, 64)", 50240),
    ("dense_1 (Dense)", "(None, 64)", 4160),
    ("dense_2 (Dense)", "(None, 10)", 650),
]
summaries["mnist_model"] = print_summary("mnist_model", mnist, sum(r[2] for r in mnist), 0, True)

# A siamese pair: one Dense(4) called on two inputs (its nodes 0 and 1), subtracted.
siamese = [
    ("left (InputLayer)", "[(None, 3)]", 0, []),
    ("right (InputLayer)", "[(None, 3)]", 0, []),
    ("dense (Dense)", "(None, 4)", 16, ["left[0][0]", "right[0][0]"]),
    ("subtract (Subtract)", "(None, 4)", 0, ["dense[0][0]", "dense[1][0]"]),
]
summaries["siamese"] = print_summary("siamese", siamese, 16, 0, False)

# The guide's ticket classifier (three inputs, two outputs) with Conv1D + GlobalMaxPooling1D in
# place of its LSTM(128) and LSTM(32). Keras' order: by depth from the outputs (title and body 5,
# the embeddings 4, the convolutions 3, the poolings and tags 2, concatenate 1, the heads 0), ties
# in the order the walk from the outputs met them.
ticket = [
    ("title (InputLayer)", "[(None, 10)]", 0, []),
    ("body (InputLayer)", "[(None, 20)]", 0, []),
    ("embedding (Embedding)", "(None, 10, 64)", 640000, ["title[0][0]"]),
    ("embedding_1 (Embedding)", "(None, 20, 64)", 640000, ["body[0][0]"]),
    ("conv1d (Conv1D)", "(None, 8, 128)", 3 * 64 * 128 + 128, ["embedding[0][0]"]),
    ("conv1d_1 (Conv1D)", "(None, 18, 32)", 3 * 64 * 32 + 32, ["embedding_1[0][0]"]),
    ("global_max_pooling1d (GlobalMaxPooling1D)", "(None, 128)", 0, ["conv1d[0][0]"]),
    ("global_max_pooling1d_1 (GlobalMaxPooling1D)", "(None, 32)", 0, ["conv1d_1[0][0]"]),
    ("tags (InputLayer)", "[(None, 12)]", 0, []),
    ("concatenate (Concatenate)", "(None, 172)", 0,
     ["global_max_pooling1d[0][0]", "global_max_pooling1d_1[0][0]", "tags[0][0]"]),
    ("priority (Dense)", "(None, 1)", 173, ["concatenate[0][0]"]),
    ("department (Dense)", "(None, 4)", 692, ["concatenate[0][0]"]),
]
summaries["ticket_classifier"] = print_summary("ticket_classifier", ticket, sum(r[2] for r in ticket), 0, False)

with open("summaries.json", "w") as f:
    json.dump(summaries, f, indent=1)
    f.write("\n")
