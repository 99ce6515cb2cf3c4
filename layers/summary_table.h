#pragma once
// Keras 2.15's summary table (keras/utils/layer_utils.py print_summary), shared by Layer::summary()
// and Model::summary(): rows whose fields wrap inside their columns, and the totals.
#include <iosfwd>
#include <string>
#include <vector>

#include "tapegrad/layers/layer.h"

namespace tapegrad::summary_table {

// Keras' print_row: each field cut to its column (less two spaces between columns, and one more
// except in the last) and, where the cut piece holds "),", "},", "]," or "',", cut after the
// first of those; the rest of every field goes on the next lines.
void print_row(std::ostream& os, std::vector<std::string> fields, const std::vector<int>& column_ends);
// The "Total params" lines and the closing rule, for the model's weights (each once).
void print_totals(std::ostream& os, const Layer& model, int line_length);
// Keras' str() of a list of strings: ['a', 'b'].
std::string python_list(const std::vector<std::string>& items);

}  // namespace tapegrad::summary_table
