// Jordan RNN (rnnkit/cells/jordan.py): the previous *output* is fed back.
//   h_t = act(x_proj[t] + b_hh + W_hh (m * y_{t-1}))      m the recurrent dropout mask (B, O)
//   y_t = out_act(W_ho h_t + b_ho)                        output and state
// The output layer is inside the loop, so a step has two products.
#include "common.h"

namespace rnnkit {

// inputs: x_proj (T,B,H), y0 (B,O), weight_hh (H,O), bias_hh (H) or empty, weight_ho (O,H),
//         bias_ho (O) or empty, lengths, mask (B,O) or empty
// options: [activation, output activation]
// -> [out (T,B,O), y_n (B,O) | ys (T+1,B,O): y_0 .. y_T, fed (T,B,O): m * y_{t-1} of every
//     step, hs (T,B,H): h of every step]
//
// A step: the products with the activations as ATen's in-place ops, then one fused pass for the
// state update. Why not the activations inside the pass (as Elman does): scalar std::exp /
// std::tanh cost ~15 ns an element against ~1 ns for ATen's vectorized ones.
TensorList jordan_forward(const TensorList& in, const std::vector<int64_t>& options) {
  const Tensor &x_proj = in[0], &y0 = in[1], &w_hh = in[2], &b_hh = in[3], &w_ho = in[4],
               &b_ho = in[5], &lengths = in[6];
  const Tensor mask = given(in[7]) ? in[7].contiguous() : Tensor();
  const int64_t act = options[0], out_act = options[1];
  const int64_t T = x_proj.size(0), B = x_proj.size(1), H = x_proj.size(2), O = y0.size(1);
  const auto opts = x_proj.options();
  const Tensor x_in = given(b_hh) ? x_proj + b_hh : x_proj.contiguous();
  Tensor ys = at::empty({T + 1, B, O}, opts);
  ys[0].copy_(y0);
  // Without a mask the fed state is y itself: no copy.
  Tensor fed = given(mask) ? at::empty({T, B, O}, opts) : ys.narrow(0, 0, T);
  if (given(mask) && T > 0) fed[0].copy_(ys[0] * mask);
  Tensor hs = at::empty({T, B, H}, opts);
  Tensor out = at::empty({T, B, O}, opts);
  Tensor c = at::empty({B, O}, opts);  // W_ho h_t + b_ho
  const Tensor w_hh_t = w_hh.t(), w_ho_t = w_ho.t();
  const Active active = active_from(lengths);
  AT_DISPATCH_FLOATING_TYPES(x_proj.scalar_type(), "jordan_forward", [&] {
    const scalar_t* m = given(mask) ? mask.data_ptr<scalar_t>() : nullptr;
    const scalar_t* c_p = c.data_ptr<scalar_t>();
    for (int64_t t = 0; t < T; ++t) {
      Tensor h_t = hs[t];
      at::addmm_out(h_t, x_in[t], fed[t], w_hh_t);
      activate_(h_t, act);
      if (given(b_ho))
        at::addmm_out(c, b_ho, h_t, w_ho_t);
      else
        at::mm_out(c, h_t, w_ho_t);
      activate_(c, out_act);
      const scalar_t* yp = ys.data_ptr<scalar_t>() + t * B * O;
      scalar_t* yn = ys.data_ptr<scalar_t>() + (t + 1) * B * O;
      scalar_t* o = out.data_ptr<scalar_t>() + t * B * O;
      // The next step's fed state is written in this pass: no extra pass over y.
      scalar_t* fed_next = (m != nullptr && t + 1 < T) ? fed.data_ptr<scalar_t>() + (t + 1) * B * O
                                                       : nullptr;
      for_rows(B, O, [&](int64_t b) {
        const bool on = active(t, b);
        for (int64_t k = b * O; k < (b + 1) * O; ++k) {
          // y_t for an active sequence, y_{t-1} (and output 0) for one that has ended
          const scalar_t v = c_p[k];
          const scalar_t y = on ? v : yp[k];
          yn[k] = y;
          o[k] = on ? v : scalar_t(0);
          if (fed_next != nullptr) fed_next[k] = y * m[k];
        }
      });
    }
  });
  return {out, ys[T], ys, fed, hs};
}

// grads: [d_out (T,B,O), d_y_n (B,O)]; saved: [ys, fed, hs]
// -> [d_x_proj, d_y0, d_weight_hh, d_bias_hh, d_weight_ho, d_bias_ho, (none), (none)]
//
// With d = dL/dy_t (from step t+1 and from out_t), c_t = W_ho h_t + b_ho, a_t its input:
//   dc = d out_act'(c_t)                       d_b_ho = sum dc,  d_W_ho = sum dc^T h_t
//   da = (dc W_ho) act'(a_t)                   d_x_proj = da,  d_b_hh = sum da,
//                                              d_W_hh = sum da^T (m y_{t-1})
//   dy_{t-1} = m (da W_hh), or d itself for a sequence that has ended at t.
TensorList jordan_backward(const TensorList& grads, const TensorList& saved,
                           const TensorList& in, const std::vector<int64_t>& options) {
  const Tensor &ys = saved[0], &fed = saved[1], &hs = saved[2];
  const Tensor &w_hh = in[2], &b_hh = in[3], &w_ho = in[4], &b_ho = in[5], &lengths = in[6];
  const Tensor mask = given(in[7]) ? in[7].contiguous() : Tensor();
  const int64_t act = options[0], out_act = options[1];
  const int64_t T = hs.size(0), B = hs.size(1), H = hs.size(2), O = ys.size(2);
  const auto opts = hs.options();
  Tensor dy = at::empty({B, O}, opts);  // dL/dy_t flowing back through the recurrence
  // an output nobody used may come without a gradient (empty): zeros
  if (given(grads[1]))
    dy.copy_(grads[1]);
  else
    dy.zero_();
  const Tensor d_out = given(grads[0]) ? grads[0].contiguous()
                                       : at::zeros({T, B, O}, opts);
  Tensor d_c = at::empty({T, B, O}, opts);
  Tensor d_a = at::empty({T, B, H}, opts);
  Tensor d_h = at::empty({B, H}, opts);
  // da W_hh of a step: turned into dy_{t-1} at the start of the next (earlier) step's pass
  Tensor acc = at::empty({B, O}, opts);
  const Active active = active_from(lengths);
  AT_DISPATCH_FLOATING_TYPES(hs.scalar_type(), "jordan_backward", [&] {
    const scalar_t* m = given(mask) ? mask.data_ptr<scalar_t>() : nullptr;
    scalar_t* dy_p = dy.data_ptr<scalar_t>();
    const scalar_t* acc_p = acc.data_ptr<scalar_t>();
    const scalar_t* dh_p = d_h.data_ptr<scalar_t>();
    // dy_{s-1} from acc of step s: an ended sequence passes its gradient through unchanged
    auto carry = [&](int64_t s, int64_t b) {
      if (!active(s, b)) return;
      for (int64_t k = b * O; k < (b + 1) * O; ++k)
        dy_p[k] = m != nullptr ? m[k] * acc_p[k] : acc_p[k];
    };
    for (int64_t t = T - 1; t >= 0; --t) {
      const scalar_t* go = d_out.data_ptr<scalar_t>() + t * B * O;
      const scalar_t* y = ys.data_ptr<scalar_t>() + (t + 1) * B * O;
      const scalar_t* h = hs.data_ptr<scalar_t>() + t * B * H;
      scalar_t* dc = d_c.data_ptr<scalar_t>() + t * B * O;
      scalar_t* da = d_a.data_ptr<scalar_t>() + t * B * H;
      for_rows(B, O, [&](int64_t b) {
        if (t + 1 < T) carry(t + 1, b);
        // an ended sequence: no gradient reaches this step's layers (its y_t slot holds y_{t-1})
        const bool on = active(t, b);
        for (int64_t k = b * O; k < (b + 1) * O; ++k)
          dc[k] = on ? (dy_p[k] + go[k]) * slope(out_act, y[k]) : scalar_t(0);
      });
      at::mm_out(d_h, d_c[t], w_ho);
      for_rows(B, H, [&](int64_t b) {
        for (int64_t k = b * H; k < (b + 1) * H; ++k) da[k] = dh_p[k] * slope(act, h[k]);
      });
      at::mm_out(acc, d_a[t], w_hh);
    }
    if (T > 0) for_rows(B, O, [&](int64_t b) { carry(0, b); });
  });
  Tensor d_b_hh = given(b_hh) ? d_a.sum({0, 1}) : Tensor();
  Tensor d_b_ho = given(b_ho) ? d_c.sum({0, 1}) : Tensor();
  return {d_a,      dy, weight_grad(d_a, fed), d_b_hh, weight_grad(d_c, hs), d_b_ho, Tensor(),
          Tensor()};
}

}  // namespace rnnkit
