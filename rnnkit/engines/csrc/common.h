// Shared pieces of the fused engine's kernels: activations, the lengths mask, and the loop over
// batch rows. Every kernel follows one contract (see fused.py):
//   <family>_forward(inputs, options)  -> [outputs..., saved...]
//   <family>_backward(grads, saved, inputs, options) -> [gradient of each input or undefined]
// inputs: [x_proj (T, B, K), state parts (B, n)..., weights..., lengths (B,) int64 or empty,
//          recurrent mask (B, n0) or empty]. An empty tensor stands for "none".
#pragma once

#include <torch/extension.h>

#include <cmath>
#include <vector>

namespace rnnkit {

using at::Tensor;
using TensorList = std::vector<Tensor>;

enum Activation : int64_t { TANH = 0, SIGMOID = 1, RELU = 2, IDENTITY = 3 };

// The derivative read off the activation's output y = f(z).
template <typename T>
inline T slope(int64_t a, T y) {
  switch (a) {
    case TANH: return T(1) - y * y;
    case SIGMOID: return y * (T(1) - y);
    case RELU: return y > T(0) ? T(1) : T(0);
    default: return T(1);
  }
}

// t = f(t) in place with ATen's vectorized kernels. Why kernels apply activations with these
// rather than inside their fused passes: scalar std::exp / std::tanh cost ~15 ns an element
// against ~1 ns for ATen's vectorized ones, and were most of a forward step's time.
inline void activate_(Tensor& t, int64_t a) {
  switch (a) {
    case TANH: t.tanh_(); break;
    case SIGMOID: t.sigmoid_(); break;
    case RELU: t.relu_(); break;
    default: break;
  }
}

inline bool given(const Tensor& t) { return t.defined() && t.numel() > 0; }

// Sequence b takes part in step t when t < lengths[b] (no lengths: always).
struct Active {
  const int64_t* lengths;
  bool operator()(int64_t t, int64_t b) const { return lengths == nullptr || t < lengths[b]; }
};

inline Active active_from(const Tensor& lengths) {
  return Active{given(lengths) ? lengths.data_ptr<int64_t>() : nullptr};
}

// Run fn(b) for each batch row, in parallel when a row range carries enough work.
template <typename F>
inline void for_rows(int64_t rows, int64_t row_size, const F& fn) {
  const int64_t grain = std::max<int64_t>(1, 32768 / std::max<int64_t>(1, row_size));
  at::parallel_for(0, rows, grain, [&](int64_t begin, int64_t end) {
    for (int64_t b = begin; b < end; ++b) fn(b);
  });
}

// gradient of W in  y_t = x_t W^T  summed over all steps: one product over T*B rows.
inline Tensor weight_grad(const Tensor& d_y, const Tensor& x) {
  return d_y.reshape({-1, d_y.size(-1)}).t().mm(x.reshape({-1, x.size(-1)}));
}

}  // namespace rnnkit
