// Shared pieces of the fused engine's kernels: activations, the lengths mask, and the loop over
// batch rows. Every kernel follows one contract (see fused.py):
//   <family>_forward(inputs, options)  -> [outputs..., saved...]
//   <family>_backward(grads, saved, inputs, options) -> [gradient of each input or undefined]
// inputs: [x_proj (T, B, K), state parts (B, n)..., weights..., lengths (B,) int64 or empty,
//          recurrent mask (B, n0) or empty]. An empty tensor stands for "none".
#pragma once

#include <torch/extension.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <vector>

namespace rnnkit {

using at::Tensor;
using TensorList = std::vector<Tensor>;

enum Activation : int64_t { TANH = 0, SIGMOID = 1, RELU = 2, IDENTITY = 3 };

// exp(x) without branches or library calls, so that a loop around it vectorizes (scalar
// std::exp is ~15 ns an element). Cephes' reduction x = n ln2 + r, a minimax polynomial (float)
// or Pade form (double) for e^r, and 2^n written into the exponent bits. Relative error about
// 1 ulp over the clamped range; beyond it the result saturates as exp does (0 or overflow).
inline float fast_exp(float x) {
  x = x < -87.3f ? -87.3f : (x > 88.7f ? 88.7f : x);  // not fmin/fmax: their NaN rules block SIMD
  const float n = std::floor(x * 1.44269504088896341f + 0.5f);
  float r = x - n * 0.693359375f;
  r = r + n * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  return p * std::bit_cast<float>(static_cast<int32_t>((static_cast<int32_t>(n) + 127) << 23));
}

inline double fast_exp(double x) {
  x = x < -708.0 ? -708.0 : (x > 709.0 ? 709.0 : x);
  const double n = std::floor(x * 1.4426950408889634074 + 0.5);
  double r = x - n * 6.93145751953125e-1;
  r = r - n * 1.42860682030941723212e-6;
  const double rr = r * r;
  const double px = r * ((1.26177193074810590878e-4 * rr + 3.02994407707441961300e-2) * rr +
                         9.99999999999999999910e-1);
  const double qx = ((3.00198505138664455042e-6 * rr + 2.52448340349684104192e-3) * rr +
                     2.27265548208155028766e-1) * rr + 2.00000000000000000009e0;
  const double e = 1.0 + 2.0 * px / (qx - px);
  // n to an integer without cvtpd2qq (AVX-512 only): adding 1.5 * 2^52 puts n in the low bits.
  const int64_t k = std::bit_cast<int64_t>(n + 6755399441055744.0) -
                    std::bit_cast<int64_t>(6755399441055744.0);
  return e * std::bit_cast<double>((k + 1023) << 52);
}

template <typename T>
inline T fast_sigmoid(T z) { return T(1) / (T(1) + fast_exp(-z)); }

// tanh z = 1 - 2 / (1 + e^{2z}): absolute error ~1 ulp of 1, which is what the tests bound.
template <typename T>
inline T fast_tanh(T z) { return T(1) - T(2) / (T(1) + fast_exp(T(2) * z)); }

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
