// MUT1, MUT2, MUT3 (Jozefowicz et al. 2015; rnnkit/cells/mut.py). x_proj holds the input's share
// of the pre-activations in the order z, r, n (input matrices, raw-input terms and bias_ih are
// already in it); the recurrent part:
//   hm   = m * h_{t-1}                         m the recurrent dropout mask
//   z    = sigm(x_z)                           MUT1
//        = sigm(x_z + W_hz hm)                 MUT2
//        = sigm(x_z + W_hz tanh(hm))           MUT3
//   r    = sigm(x_r + W_hr hm)
//   n    = tanh(x_n + W_hn (r * hm))
//   h_t  = h_{t-1} + z * (n - h_{t-1})
// weight_hh stacks the blocks of cell.recurrent_rows: "rn" for MUT1, "zrn" for MUT2 and MUT3.
// As Gal & Ghahramani: the mask reaches only the recurrent products; 1 - z keeps the undropped
// h_{t-1}, and an ended sequence keeps its h_{t-1}.
#include "common.h"

namespace rnnkit {

// inputs: x_proj (T,B,3H), h0 (B,H), weight_hh (2H or 3H, H), lengths, mask
// options: [kind: 1, 2 or 3]
// -> [out (T,B,H), h_n (B,H) | hs (T+1,B,H): h_0 .. h_T, fed (T,B,H): hm of every step,
//     gates (T,B,3H): z, r, n, rh (T,B,H): r * hm, th (T,B,H): tanh(hm) for MUT3, else empty]
//
// A step: the products, the gates' activations as ATen's in-place ops on slices of `gates`, then
// one fused pass for the state update. Why not the activations inside the pass (as Elman does):
// scalar std::exp / std::tanh cost ~15 ns an element against ~1 ns for ATen's vectorized ones,
// and were most of the forward's time (measured: MUT3, T=200, B=16, H=256: 76 ms, of which the
// products 18 ms).
TensorList mut_forward(const TensorList& in, const std::vector<int64_t>& options) {
  const Tensor &x_proj = in[0], &h0 = in[1], &w_hh = in[2], &lengths = in[3];
  const Tensor mask = given(in[4]) ? in[4].contiguous() : Tensor();
  const int64_t kind = options[0], T = x_proj.size(0), B = x_proj.size(1), H = h0.size(1);
  const auto opts = x_proj.options();
  Tensor hs = at::empty({T + 1, B, H}, opts);
  hs[0].copy_(h0);
  // Without a mask the fed state is h itself: no copy.
  Tensor fed = given(mask) ? at::empty({T, B, H}, opts) : hs.narrow(0, 0, T);
  if (given(mask) && T > 0) fed[0].copy_(hs[0] * mask);
  // MUT3's z block sees tanh(hm): kept, as the operand of W_hz (its gradient needs it too).
  Tensor th = kind == 3 ? at::empty({T, B, H}, opts) : at::empty({0}, opts);
  Tensor gates = at::empty({T, B, 3 * H}, opts);
  Tensor rh = at::empty({T, B, H}, opts);
  Tensor out = at::empty({T, B, H}, opts);
  if (kind == 1) {  // MUT1's z has no recurrent term: the whole sequence's at once
    Tensor z = gates.narrow(2, 0, H);
    at::sigmoid_out(z, x_proj.narrow(2, 0, H));
  }
  const int64_t off = kind == 1 ? 0 : H;  // where the r block starts in weight_hh
  const Tensor w_z_t = w_hh.narrow(0, 0, H).t(), w_r_t = w_hh.narrow(0, off, H).t(),
               w_zr_t = w_hh.narrow(0, 0, 2 * H).t(), w_n_t = w_hh.narrow(0, off + H, H).t();
  const Active active = active_from(lengths);
  AT_DISPATCH_FLOATING_TYPES(x_proj.scalar_type(), "mut_forward", [&] {
    const scalar_t* m = given(mask) ? mask.data_ptr<scalar_t>() : nullptr;
    for (int64_t t = 0; t < T; ++t) {
      const Tensor x_t = x_proj[t];
      Tensor g_t = gates[t], g_z = g_t.narrow(1, 0, H), g_r = g_t.narrow(1, H, H),
             g_zr = g_t.narrow(1, 0, 2 * H), g_n = g_t.narrow(1, 2 * H, H);
      if (kind == 2) {  // z and r both act on hm: one product
        at::addmm_out(g_zr, x_t.narrow(1, 0, 2 * H), fed[t], w_zr_t).sigmoid_();
      } else if (kind == 3) {  // z acts on tanh(hm), r on hm
        Tensor th_t = th[t];
        at::addmm_out(g_z, x_t.narrow(1, 0, H), at::tanh_out(th_t, fed[t]), w_z_t);
        at::addmm_out(g_r, x_t.narrow(1, H, H), fed[t], w_r_t);
        g_zr.sigmoid_();
      } else {
        at::addmm_out(g_r, x_t.narrow(1, H, H), fed[t], w_r_t).sigmoid_();
      }
      // W_hn acts on r * hm: a second product, after r
      Tensor rh_t = rh[t];
      at::mul_out(rh_t, g_r, fed[t]);
      at::addmm_out(g_n, x_t.narrow(1, 2 * H, H), rh_t, w_n_t).tanh_();
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
          // h_t for an active sequence, h_{t-1} (and output 0) for one that has ended
          const scalar_t v = hp[k] + g[i] * (g[i + 2 * H] - hp[k]);
          const scalar_t h = on ? v : hp[k];
          hn[k] = h;
          o[k] = on ? v : scalar_t(0);
          if (hm_next != nullptr) hm_next[k] = h * m[k];
        }
      });
    }
  });
  return {out, hs[T], hs, fed, gates, rh, th};
}

// grads: [d_out (T,B,H), d_h_n (B,H)]; saved: [hs, fed, gates, rh, th]
// -> [d_x_proj, d_h0, d_weight_hh, (none), (none)]
//
// With d = dL/dh_t (from step t+1 and from out_t), a_* the pre-activations of z, r, n:
//   da_n = d z (1 - n^2)                       d_x_n = da_n
//   da_z = d (n - h_{t-1}) z (1 - z)          d_x_z = da_z
//   d(r hm) = da_n W_hn
//   da_r = d(r hm) hm r (1 - r)                d_x_r = da_r
//   dhm = d(r hm) r + da_r W_hr
//         + da_z W_hz                          MUT2
//         + (da_z W_hz) (1 - tanh(hm)^2)       MUT3
//   dh_{t-1} = d (1 - z) + m dhm, or d itself for a sequence that has ended at t.
TensorList mut_backward(const TensorList& grads, const TensorList& saved, const TensorList& in,
                        const std::vector<int64_t>& options) {
  const Tensor &hs = saved[0], &fed = saved[1], &gates = saved[2], &rh = saved[3],
               &th = saved[4];
  const Tensor &w_hh = in[2], &lengths = in[3];
  const Tensor mask = given(in[4]) ? in[4].contiguous() : Tensor();
  const int64_t kind = options[0], T = hs.size(0) - 1, B = hs.size(1), H = hs.size(2);
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
  // dL/dhm_t from the products, and the direct term d (1 - z) (with a mask kept apart in `keep`,
  // since only the products' share is masked; without one it starts `acc`); turned into dh_{t-1}
  // at the start of the next (earlier) step's pass, so that a step costs no extra pass for it.
  Tensor acc = at::empty({B, H}, opts);
  Tensor keep = given(mask) ? at::empty({B, H}, opts) : Tensor();
  // MUT3: da_z W_hz, still to be multiplied by tanh's slope at hm when carried
  Tensor acc_z = kind == 3 ? at::empty({B, H}, opts) : Tensor();
  Tensor d_rh = at::empty({B, H}, opts);
  const int64_t off = kind == 1 ? 0 : H;
  const Tensor w_z = w_hh.narrow(0, 0, H), w_r = w_hh.narrow(0, off, H),
               w_zr = w_hh.narrow(0, 0, 2 * H), w_n = w_hh.narrow(0, off + H, H);
  const Active active = active_from(lengths);
  AT_DISPATCH_FLOATING_TYPES(hs.scalar_type(), "mut_backward", [&] {
    const scalar_t* m = given(mask) ? mask.data_ptr<scalar_t>() : nullptr;
    scalar_t* dh_p = dh.data_ptr<scalar_t>();
    scalar_t* acc_p = acc.data_ptr<scalar_t>();
    const scalar_t* acc_z_p = kind == 3 ? acc_z.data_ptr<scalar_t>() : nullptr;
    scalar_t* keep_p = m != nullptr ? keep.data_ptr<scalar_t>() : nullptr;
    // dh_{s-1} from the products of step s: an ended sequence passes its gradient unchanged
    auto carry = [&](int64_t s, int64_t b) {
      if (!active(s, b)) return;
      const scalar_t* th_s = kind == 3 ? th.data_ptr<scalar_t>() + s * B * H : nullptr;
      for (int64_t k = b * H; k < (b + 1) * H; ++k) {
        scalar_t v = acc_p[k];
        if (th_s != nullptr) v += acc_z_p[k] * (scalar_t(1) - th_s[k] * th_s[k]);
        dh_p[k] = m != nullptr ? keep_p[k] + m[k] * v : v;
      }
    };
    for (int64_t t = T - 1; t >= 0; --t) {
      const scalar_t* go = d_out.data_ptr<scalar_t>() + t * B * H;
      const scalar_t* hm = fed.data_ptr<scalar_t>() + t * B * H;
      const scalar_t* hp = hs.data_ptr<scalar_t>() + t * B * H;
      const scalar_t* g = gates.data_ptr<scalar_t>() + t * B * 3 * H;
      scalar_t* dx = d_x.data_ptr<scalar_t>() + t * B * 3 * H;
      for_rows(B, 3 * H, [&](int64_t b) {
        if (t + 1 < T) carry(t + 1, b);
        const bool on = active(t, b);
        for (int64_t j = 0; j < H; ++j) {
          const int64_t i = b * 3 * H + j, k = b * H + j;
          if (!on) {  // an ended sequence: no gradient reaches this step's gates
            dx[i] = dx[i + 2 * H] = scalar_t(0);
            acc_p[k] = scalar_t(0);
            continue;
          }
          const scalar_t d = dh_p[k] + go[k];
          const scalar_t z = g[i], n = g[i + 2 * H];
          dx[i] = d * (n - hp[k]) * z * (scalar_t(1) - z);
          dx[i + 2 * H] = d * z * (scalar_t(1) - n * n);
          if (keep_p != nullptr) {
            keep_p[k] = d * (scalar_t(1) - z);
            acc_p[k] = scalar_t(0);
          } else {
            acc_p[k] = d * (scalar_t(1) - z);
          }
        }
      });
      at::mm_out(d_rh, d_x[t].narrow(1, 2 * H, H), w_n);
      const scalar_t* drh = d_rh.data_ptr<scalar_t>();
      // an ended sequence has da_n = 0, so d(r hm) = 0 and nothing below moves
      for_rows(B, 2 * H, [&](int64_t b) {
        for (int64_t j = 0; j < H; ++j) {
          const int64_t i = b * 3 * H + j, k = b * H + j;
          const scalar_t r = g[i + H];
          dx[i + H] = drh[k] * hm[k] * r * (scalar_t(1) - r);
          acc_p[k] += drh[k] * r;
        }
      });
      if (kind == 2) {
        acc.addmm_(d_x[t].narrow(1, 0, 2 * H), w_zr);
      } else {
        acc.addmm_(d_x[t].narrow(1, H, H), w_r);
        if (kind == 3) at::mm_out(acc_z, d_x[t].narrow(1, 0, H), w_z);
      }
    }
    if (T > 0) for_rows(B, H, [&](int64_t b) { carry(0, b); });
  });
  const Tensor dx_z = d_x.narrow(2, 0, H), dx_r = d_x.narrow(2, H, H),
               dx_n = d_x.narrow(2, 2 * H, H);
  Tensor d_w;
  if (kind == 1)
    d_w = at::cat({weight_grad(dx_r, fed), weight_grad(dx_n, rh)}, 0);
  else if (kind == 2)
    d_w = at::cat({weight_grad(d_x.narrow(2, 0, 2 * H), fed), weight_grad(dx_n, rh)}, 0);
  else
    d_w = at::cat({weight_grad(dx_z, th), weight_grad(dx_r, fed), weight_grad(dx_n, rh)}, 0);
  return {d_x, dh, d_w, Tensor(), Tensor()};
}

}  // namespace rnnkit
