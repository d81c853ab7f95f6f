// Elman RNN:  h_t = act(x_proj[t] + b_hh + W_hh (m * h_{t-1})),  m the recurrent dropout mask.
#include "common.h"

namespace rnnkit {

// inputs: x_proj (T,B,H), h0 (B,H), weight_hh (H,H), bias_hh (H) or empty, lengths, mask
// options: [activation]
// -> [out (T,B,H), h_n (B,H) | hs (T+1,B,H): h_0 .. h_T]
TensorList elman_forward(const TensorList& in, const std::vector<int64_t>& options) {
  const Tensor &x_proj = in[0], &h0 = in[1], &w_hh = in[2], &b_hh = in[3], &lengths = in[4],
               &mask = in[5];
  const int64_t act = options[0], T = x_proj.size(0), B = x_proj.size(1), H = x_proj.size(2);
  const Tensor x_in = given(b_hh) ? x_proj + b_hh : x_proj.contiguous();
  Tensor hs = at::empty({T + 1, B, H}, x_proj.options());
  Tensor out = at::empty({T, B, H}, x_proj.options());
  Tensor pre = at::empty({B, H}, x_proj.options());
  hs[0].copy_(h0);
  const Active active = active_from(lengths);
  const Tensor w_t = w_hh.t();
  AT_DISPATCH_FLOATING_TYPES(x_proj.scalar_type(), "elman_forward", [&] {
    for (int64_t t = 0; t < T; ++t) {
      const Tensor h_prev = hs[t];
      at::addmm_out(pre, x_in[t], given(mask) ? h_prev * mask : h_prev, w_t);
      activate_(pre, act);
      const scalar_t* p = pre.data_ptr<scalar_t>();
      const scalar_t* hp = h_prev.data_ptr<scalar_t>();
      scalar_t* hn = hs[t + 1].data_ptr<scalar_t>();
      scalar_t* o = out[t].data_ptr<scalar_t>();
      for_rows(B, H, [&](int64_t b) {
        const bool on = active(t, b);
        for (int64_t j = b * H; j < (b + 1) * H; ++j) {
          const scalar_t v = on ? p[j] : hp[j];
          hn[j] = v;
          o[j] = on ? v : scalar_t(0);
        }
      });
    }
  });
  return {out, hs[T], hs};
}

// grads: [d_out (T,B,H), d_h_n (B,H)]; saved: [hs]
// -> [d_x_proj, d_h0, d_weight_hh, d_bias_hh, (none), (none)]
TensorList elman_backward(const TensorList& grads, const TensorList& saved, const TensorList& in,
                          const std::vector<int64_t>& options) {
  const Tensor d_out = grads[0].contiguous();
  const Tensor& hs = saved[0];
  const Tensor &w_hh = in[2], &b_hh = in[3], &lengths = in[4], &mask = in[5];
  const int64_t act = options[0], T = hs.size(0) - 1, B = hs.size(1), H = hs.size(2);
  Tensor d_pre = at::empty({T, B, H}, hs.options());
  Tensor dh = grads[1].clone();  // dL/dh_t flowing back through the recurrence
  const Active active = active_from(lengths);
  AT_DISPATCH_FLOATING_TYPES(hs.scalar_type(), "elman_backward", [&] {
    for (int64_t t = T - 1; t >= 0; --t) {
      const scalar_t* y = hs[t + 1].data_ptr<scalar_t>();
      const scalar_t* go = d_out[t].data_ptr<scalar_t>();
      scalar_t* dh_p = dh.data_ptr<scalar_t>();
      scalar_t* dp = d_pre[t].data_ptr<scalar_t>();
      // h_t = act(a_t): da = act'(a_t) (dh_t + d_out_t); an ended sequence contributes nothing
      for_rows(B, H, [&](int64_t b) {
        const bool on = active(t, b);
        for (int64_t j = b * H; j < (b + 1) * H; ++j)
          dp[j] = on ? slope(act, y[j]) * (dh_p[j] + go[j]) : scalar_t(0);
      });
      // a_t = ... + W_hh (m * h_{t-1}): dh_{t-1} = m * (W_hh^T da); an ended sequence passes
      // its state (and so its gradient) through unchanged
      Tensor dh_prev = d_pre[t].mm(w_hh);
      if (given(mask)) dh_prev.mul_(mask);
      if (given(lengths)) {
        const Tensor on = (lengths > t).unsqueeze(1);
        dh_prev = at::where(on, dh_prev, dh);
      }
      dh = dh_prev;
    }
  });
  const Tensor h_prev = hs.narrow(0, 0, T);
  const Tensor fed = given(mask) ? h_prev * mask : h_prev;
  Tensor d_b = given(b_hh) ? d_pre.sum({0, 1}) : Tensor();
  return {d_pre, dh, weight_grad(d_pre, fed), d_b, Tensor(), Tensor()};
}

}  // namespace rnnkit
