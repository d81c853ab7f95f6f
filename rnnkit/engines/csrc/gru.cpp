// GRU in both conventions for where the reset gate acts (rnnkit/cells/gru.py), blocks r, z, n:
//   hm  = m * h_{t-1}                                  m the recurrent dropout mask
//   r   = sigm(x_r + W_hr hm + b_hr)
//   z   = sigm(x_z + W_hz hm + b_hz)
//   n   = tanh(x_n + r * (W_hn hm + b_hn))              reset_after (PyTorch, cuDNN)
//   n   = tanh(x_n + W_hn (r * hm) + b_hn)              reset before (Cho et al. 2014)
//   h_t = n + z * (h_{t-1} - n)
// As Gal & Ghahramani: the mask reaches only the recurrent products; z keeps the undropped
// h_{t-1}, and an ended sequence keeps its h_{t-1}.
#include "common.h"

namespace rnnkit {

// inputs: x_proj (T,B,3H), h0 (B,H), weight_hh (3H,H), bias_hh (3H) or empty, lengths, mask
// options: [reset_after]
// -> [out (T,B,H), h_n (B,H) | hs (T+1,B,H): h_0 .. h_T, fed (T,B,H): hm of every step,
//     gates (T,B,3H): r, z, n, extra: reset_after W_hh hm + b_hh (T,B,3H), else r * hm (T,B,H)]
//
// A step: the products, the gates' activations as ATen's in-place ops on slices of `gates`, then
// one fused pass for the state update. Why not the activations inside the pass (as Elman does):
// scalar std::exp / std::tanh cost ~15 ns an element, ATen's vectorized ones ~1 ns, and with three
// per element they were 3/4 of the forward's time (measured: T=200, B=16, H=256: 57 ms, of which
// the products 12 ms).
TensorList gru_forward(const TensorList& in, const std::vector<int64_t>& options) {
  const Tensor &x_proj = in[0], &h0 = in[1], &w_hh = in[2], &b_hh = in[3], &lengths = in[4];
  const Tensor mask = given(in[5]) ? in[5].contiguous() : Tensor();
  const bool reset_after = options[0] != 0;
  const int64_t T = x_proj.size(0), B = x_proj.size(1), H = h0.size(1);
  const auto opts = x_proj.options();
  // Reset before: all of b_hh adds to the pre-activations, so it joins x_proj once, here;
  // reset_after: b_hn is inside r * (...), so the bias goes into each step's product instead.
  const Tensor x_in = given(b_hh) && !reset_after ? x_proj + b_hh : x_proj;
  Tensor hs = at::empty({T + 1, B, H}, opts);
  hs[0].copy_(h0);
  // Without a mask the fed state is h itself: no copy.
  Tensor fed = given(mask) ? at::empty({T, B, H}, opts) : hs.narrow(0, 0, T);
  if (given(mask) && T > 0) fed[0].copy_(hs[0] * mask);
  Tensor gates = at::empty({T, B, 3 * H}, opts);
  Tensor out = at::empty({T, B, H}, opts);
  // reset_after: the whole product W_hh hm + b_hh of each step is kept, since the backward needs
  // its n block (what r scales); reset before: r * hm, the operand of the second product, which
  // W_hn's gradient needs.
  Tensor extra = at::empty({T, B, reset_after ? 3 * H : H}, opts);
  const Tensor w_t = w_hh.t(), w_rz_t = w_hh.narrow(0, 0, 2 * H).t(),
               w_n_t = w_hh.narrow(0, 2 * H, H).t();
  const Active active = active_from(lengths);
  AT_DISPATCH_FLOATING_TYPES(x_proj.scalar_type(), "gru_forward", [&] {
    const scalar_t* m = given(mask) ? mask.data_ptr<scalar_t>() : nullptr;
    for (int64_t t = 0; t < T; ++t) {
      const Tensor x_t = x_in[t], x_rz = x_t.narrow(1, 0, 2 * H), x_n = x_t.narrow(1, 2 * H, H);
      Tensor g_t = gates[t], g_rz = g_t.narrow(1, 0, 2 * H), g_n = g_t.narrow(1, 2 * H, H);
      const Tensor g_r = g_t.narrow(1, 0, H);
      if (reset_after) {
        Tensor gh = extra[t];
        if (given(b_hh))
          at::addmm_out(gh, b_hh, fed[t], w_t);
        else
          at::mm_out(gh, fed[t], w_t);
        at::add_out(g_rz, x_rz, gh.narrow(1, 0, 2 * H)).sigmoid_();
        at::addcmul_out(g_n, x_n, g_r, gh.narrow(1, 2 * H, H)).tanh_();
      } else {
        // W_hn acts on r * hm, so the n block needs a second product, after r.
        at::addmm_out(g_rz, x_rz, fed[t], w_rz_t).sigmoid_();
        Tensor rh = extra[t];
        at::mul_out(rh, g_r, fed[t]);
        at::addmm_out(g_n, x_n, rh, w_n_t).tanh_();
      }
      const scalar_t* g = gates.data_ptr<scalar_t>() + t * B * 3 * H;
      const scalar_t* hp = hs.data_ptr<scalar_t>() + t * B * H;
      scalar_t* hn = hs.data_ptr<scalar_t>() + (t + 1) * B * H;
      scalar_t* o = out.data_ptr<scalar_t>() + t * B * H;
      // The next step's fed state is written in this pass: no extra pass over h.
      scalar_t* hm_next = (m != nullptr && t + 1 < T) ? fed.data_ptr<scalar_t>() + (t + 1) * B * H
                                                      : nullptr;
      for_rows(B, 3 * H, [&](int64_t b) {
        const bool on = active(t, b);
        for (int64_t j = 0; j < H; ++j) {
          const int64_t i = b * 3 * H + j, k = b * H + j;
          const scalar_t z = g[i + H], n = g[i + 2 * H];
          // h_t for an active sequence, h_{t-1} (and output 0) for one that has ended
          const scalar_t v = n + z * (hp[k] - n);
          const scalar_t h = on ? v : hp[k];
          hn[k] = h;
          o[k] = on ? v : scalar_t(0);
          if (hm_next != nullptr) hm_next[k] = h * m[k];
        }
      });
    }
  });
  return {out, hs[T], hs, fed, gates, extra};
}

// grads: [d_out (T,B,H), d_h_n (B,H)]; saved: [hs, fed, gates, extra]
// -> [d_x_proj, d_h0, d_weight_hh, d_bias_hh, (none), (none)]
//
// With d = dL/dh_t (from step t+1 and from out_t), a_* the pre-activations of r, z, n:
//   da_n = d (1 - z) (1 - n^2)                 d_x_n = da_n
//   da_z = d (h_{t-1} - n) z (1 - z)          d_x_z = da_z
//   reset_after:  da_r = da_n (W_hn hm + b_hn) r (1 - r);  the product's gradient is
//                 [da_r, da_z, da_n r], so dhm = [da_r, da_z, da_n r] W_hh
//   reset before: d(r hm) = da_n W_hn;  da_r = d(r hm) hm r (1 - r);
//                 dhm = d(r hm) r + [da_r, da_z] W_h{r,z}
//   dh_{t-1} = d z + m dhm, or d itself for a sequence that has ended at t.
TensorList gru_backward(const TensorList& grads, const TensorList& saved, const TensorList& in,
                        const std::vector<int64_t>& options) {
  const Tensor &hs = saved[0], &fed = saved[1], &gates = saved[2], &extra = saved[3];
  const Tensor &w_hh = in[2], &b_hh = in[3], &lengths = in[4];
  const Tensor mask = given(in[5]) ? in[5].contiguous() : Tensor();
  const bool reset_after = options[0] != 0;
  const int64_t T = hs.size(0) - 1, B = hs.size(1), H = hs.size(2);
  const auto opts = hs.options();
  Tensor dh = at::empty({B, H}, opts);  // dL/dh_t flowing back through the recurrence
  // an output nobody used may come without a gradient (empty): zeros
  if (given(grads[1]))
    dh.copy_(grads[1]);
  else
    dh.zero_();
  const Tensor d_out = given(grads[0]) ? grads[0].contiguous()
                                       : at::zeros({T, B, H}, opts);
  Tensor d_x = at::empty({T, B, 3 * H}, opts);
  // reset_after: the gradient of W_hh hm + b_hh differs from d_x in the n block (times r);
  // reset before: both products' outputs enter the pre-activations as they are.
  Tensor d_g = reset_after ? at::empty({T, B, 3 * H}, opts) : d_x;
  // dL/dhm_t from the products, and the direct term d z (with a mask kept apart in `keep`, since
  // only the products' share is masked; without one it starts `acc`); turned into dh_{t-1} at the
  // start of the next (earlier) step's pass, so that a step costs one pass, not two.
  Tensor acc = at::empty({B, H}, opts);
  Tensor keep = given(mask) ? at::empty({B, H}, opts) : Tensor();
  Tensor d_rh = reset_after ? Tensor() : at::empty({B, H}, opts);
  const Tensor w_rz = w_hh.narrow(0, 0, 2 * H), w_n = w_hh.narrow(0, 2 * H, H);
  const Active active = active_from(lengths);
  AT_DISPATCH_FLOATING_TYPES(hs.scalar_type(), "gru_backward", [&] {
    const scalar_t* m = given(mask) ? mask.data_ptr<scalar_t>() : nullptr;
    scalar_t* dh_p = dh.data_ptr<scalar_t>();
    scalar_t* acc_p = acc.data_ptr<scalar_t>();
    scalar_t* keep_p = m != nullptr ? keep.data_ptr<scalar_t>() : nullptr;
    // dh_{s-1} from step s: an ended sequence passes its gradient through unchanged
    auto carry = [&](int64_t s, int64_t b) {
      if (!active(s, b)) return;
      for (int64_t k = b * H; k < (b + 1) * H; ++k)
        dh_p[k] = m != nullptr ? keep_p[k] + m[k] * acc_p[k] : acc_p[k];
    };
    for (int64_t t = T - 1; t >= 0; --t) {
      const scalar_t* go = d_out.data_ptr<scalar_t>() + t * B * H;
      const scalar_t* hm = fed.data_ptr<scalar_t>() + t * B * H;
      const scalar_t* hp = hs.data_ptr<scalar_t>() + t * B * H;
      const scalar_t* g = gates.data_ptr<scalar_t>() + t * B * 3 * H;
      const scalar_t* ex = extra.data_ptr<scalar_t>() + t * B * (reset_after ? 3 * H : H);
      scalar_t* dx = d_x.data_ptr<scalar_t>() + t * B * 3 * H;
      scalar_t* dg = d_g.data_ptr<scalar_t>() + t * B * 3 * H;
      for_rows(B, 3 * H, [&](int64_t b) {
        if (t + 1 < T) carry(t + 1, b);
        const bool on = active(t, b);
        for (int64_t j = 0; j < H; ++j) {
          const int64_t i = b * 3 * H + j, k = b * H + j;
          if (!on) {  // an ended sequence: no gradient reaches this step's gates
            dx[i] = dx[i + H] = dx[i + 2 * H] = scalar_t(0);
            if (reset_after) dg[i] = dg[i + H] = dg[i + 2 * H] = scalar_t(0);
            acc_p[k] = scalar_t(0);
            continue;
          }
          const scalar_t d = dh_p[k] + go[k];
          const scalar_t r = g[i], z = g[i + H], n = g[i + 2 * H];
          const scalar_t da_n = d * (scalar_t(1) - z) * (scalar_t(1) - n * n);
          const scalar_t da_z = d * (hp[k] - n) * z * (scalar_t(1) - z);
          if (keep_p != nullptr) {
            keep_p[k] = d * z;
            acc_p[k] = scalar_t(0);
          } else {
            acc_p[k] = d * z;
          }
          dx[i + H] = da_z;
          dx[i + 2 * H] = da_n;
          if (reset_after) {
            const scalar_t da_r = da_n * ex[i + 2 * H] * r * (scalar_t(1) - r);
            dx[i] = da_r;
            dg[i] = da_r;
            dg[i + H] = da_z;
            dg[i + 2 * H] = da_n * r;
          }
        }
      });
      if (reset_after) {
        acc.addmm_(d_g[t], w_hh);
      } else {
        at::mm_out(d_rh, d_x[t].narrow(1, 2 * H, H), w_n);
        const scalar_t* drh = d_rh.data_ptr<scalar_t>();
        // an ended sequence has da_n = 0, so d(r hm) = 0 and nothing below moves
        for_rows(B, 2 * H, [&](int64_t b) {
          for (int64_t j = 0; j < H; ++j) {
            const int64_t i = b * 3 * H + j, k = b * H + j;
            const scalar_t r = g[i];
            dx[i] = drh[k] * hm[k] * r * (scalar_t(1) - r);
            acc_p[k] += drh[k] * r;
          }
        });
        acc.addmm_(d_x[t].narrow(1, 0, 2 * H), w_rz);
      }
    }
    if (T > 0) for_rows(B, H, [&](int64_t b) { carry(0, b); });
  });
  Tensor d_w, d_b;
  if (reset_after) {
    d_w = weight_grad(d_g, fed);
    if (given(b_hh)) d_b = d_g.sum({0, 1});
  } else {
    d_w = at::cat({weight_grad(d_x.narrow(2, 0, 2 * H), fed),
                   weight_grad(d_x.narrow(2, 2 * H, H), extra)}, 0);
    if (given(b_hh)) d_b = d_x.sum({0, 1});
  }
  return {d_x, dh, d_w, d_b, Tensor(), Tensor()};
}

}  // namespace rnnkit
