#pragma once
// The consumer's own header named like one of tapegrad's (tapegrad's is tapegrad/core/shape.h):
// tapegrad's headers must never pick this one up, and the consumer's code must see it.
namespace consumer {
inline constexpr int kOwnShapeHeader = 1;
}
