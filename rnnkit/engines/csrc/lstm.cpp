// The LSTM family of rnnkit.cells.LSTMSpec, every option in one kernel (see cells/lstm.py):
//   a_k = x_proj_k + b_hh_k + (W_hh (m * h_{t-1}))_k [+ p_k c_{t-1}, k in i,f] [+ (V g_{t-1})_k]
//   i = sigm(a_i) | 1;  f = sigm(a_f) | 1 | 1 - i;  g = tanh(a_g) | a_g;  c_t = f c_{t-1} + i g
//   o = sigm(a_o [+ p_o c_t]) | 1;  s = tanh(c_t) | c_t;  h_t = o s  (then W_hr h_t with proj)
// A gate that is off is the constant 1, so one forward and one backward serve every spec.
#include "common.h"

namespace rnnkit {
namespace {

struct Spec {
  bool has_i, has_f, has_o, input_act, output_act, coupled, fgr, proj, peep;
  int64_t H;
  // Offsets of the blocks in the pre-activation rows (spec.gates order i, f, g, o); -1 if absent.
  int64_t at_i = -1, at_f = -1, at_g = -1, at_o = -1;
  // Rows of weight_ch (spec.peephole_gates order); -1 if absent.
  int64_t peep_i = -1, peep_f = -1, peep_o = -1;
  int64_t width = 0;  // G * H

  Spec(const std::vector<int64_t>& o, int64_t hidden, bool peepholes)
      : has_i(o[0]), has_f(o[1]), has_o(o[2]), input_act(o[3]), output_act(o[4]),
        coupled(o[5]), fgr(o[6]), proj(o[7]), peep(peepholes), H(hidden) {
    int64_t block = 0, row = 0;
    if (has_i) { at_i = H * block++; if (peep) peep_i = row++; }
    if (has_f) { at_f = H * block++; if (peep) peep_f = row++; }
    at_g = H * block++;
    if (has_o) { at_o = H * block++; if (peep) peep_o = row++; }
    width = H * block;
  }
};

// a = sigm(a + p * c) over one row of H (p null: no peephole)
template <typename T>
inline void sigmoid_row(T* a, const T* p, const T* c, int64_t H) {
  if (p) {
    for (int64_t j = 0; j < H; ++j) a[j] = fast_sigmoid(a[j] + p[j] * c[j]);
  } else {
    for (int64_t j = 0; j < H; ++j) a[j] = fast_sigmoid(a[j]);
  }
}

template <typename T>
inline void tanh_row(T* out, const T* in, int64_t H) {
  for (int64_t j = 0; j < H; ++j) out[j] = fast_tanh(in[j]);
}

}  // namespace

// inputs: x_proj (T,B,G*H), h0 (B,R), c0 (B,H), gates0 (B,3H) or empty, weight_hh (G*H,R),
//         bias_hh or empty, weight_ch (P,H) or empty, weight_gg (3H,3H) or empty,
//         weight_hr (R,H) or empty, lengths, mask
// options: has_i, has_f (own weights), has_o, input_act, output_act, coupled, fgr, proj
// -> [out (T,B,R), h_n, c_n, gates_n (FGR) or empty |
//     hs (T+1,B,R), cs (T+1,B,H), acts (T,B,G*H): the gates' activations in spec.gates order,
//     ss (T,B,H): tanh(c_t) or empty (NOAF), ms (T,B,H): o s before the projection or empty,
//     gs (T+1,B,3H): the FGR gate state or empty]
//
// A step: the recurrent product straight into the step's slice of `acts` (plus the FGR term),
// then one fused pass per batch row: peepholes, activations (fast_sigmoid / fast_tanh, which
// vectorize), the cell update, the output gate (whose peephole needs c_t), s and m; then the
// projection if any. Each inner loop is a plain loop over j so that the compiler vectorizes it.
TensorList lstm_forward(const TensorList& in, const std::vector<int64_t>& options) {
  const Tensor &x_proj = in[0], &h0 = in[1], &c0 = in[2], &gates0 = in[3], &w_hh = in[4],
               &b_hh = in[5], &w_ch = in[6], &w_gg = in[7], &w_hr = in[8], &lengths = in[9],
               &mask = in[10];
  const int64_t T = x_proj.size(0), B = x_proj.size(1), H = c0.size(1), R = h0.size(1);
  const Spec sp(options, H, given(w_ch));
  const auto opts = x_proj.options();
  const Tensor x_in = given(b_hh) ? x_proj + b_hh : x_proj.contiguous();
  Tensor hs = at::empty({T + 1, B, R}, opts), cs = at::empty({T + 1, B, H}, opts);
  Tensor acts = at::empty({T, B, sp.width}, opts);
  Tensor ss = sp.output_act ? at::empty({T, B, H}, opts) : Tensor();
  Tensor ms = sp.proj ? at::empty({T, B, H}, opts) : Tensor();
  Tensor gs = sp.fgr ? at::empty({T + 1, B, 3 * H}, opts) : Tensor();
  Tensor out = at::empty({T, B, R}, opts);
  Tensor from_gates = sp.fgr ? at::empty({B, 3 * H}, opts) : Tensor();
  hs[0].copy_(h0);
  cs[0].copy_(c0);
  if (sp.fgr) gs[0].copy_(gates0);
  const Active active = active_from(lengths);
  const Tensor w_hh_t = w_hh.t(), w_ch_c = sp.peep ? w_ch.contiguous() : Tensor();
  AT_DISPATCH_FLOATING_TYPES(x_proj.scalar_type(), "lstm_forward", [&] {
    using T_ = scalar_t;
    const T_* pw = sp.peep ? w_ch_c.data_ptr<T_>() : nullptr;
    const T_* p_i = sp.peep_i >= 0 ? pw + sp.peep_i * H : nullptr;
    const T_* p_f = sp.peep_f >= 0 ? pw + sp.peep_f * H : nullptr;
    const T_* p_o = sp.peep_o >= 0 ? pw + sp.peep_o * H : nullptr;
    for (int64_t t = 0; t < T; ++t) {
      const Tensor h_prev = hs[t];
      Tensor a = acts[t];
      at::addmm_out(a, x_in[t], given(mask) ? h_prev * mask : h_prev, w_hh_t);
      if (sp.fgr) {  // FGR has all four gates: i, f at [0, 2H), o at [3H, 4H)
        at::mm_out(from_gates, gs[t], w_gg.t());
        a.narrow(1, 0, 2 * H).add_(from_gates.narrow(1, 0, 2 * H));
        a.narrow(1, sp.at_o, H).add_(from_gates.narrow(1, 2 * H, H));
      }
      T_* ap = a.data_ptr<T_>();
      const T_* cp = cs[t].data_ptr<T_>();
      T_* cn = cs[t + 1].data_ptr<T_>();
      T_* sp_t = sp.output_act ? ss[t].data_ptr<T_>() : cn;  // s = tanh(c_t) or c_t itself
      // Without a projection, m is h_t itself: written straight into hs, and out[t] with it.
      T_* mp = sp.proj ? ms[t].data_ptr<T_>() : hs[t + 1].data_ptr<T_>();
      T_* op = sp.proj ? nullptr : out[t].data_ptr<T_>();
      const T_* hp = h_prev.data_ptr<T_>();
      T_* gn = sp.fgr ? gs[t + 1].data_ptr<T_>() : nullptr;
      const T_* gp = sp.fgr ? gs[t].data_ptr<T_>() : nullptr;
      for_rows(B, sp.width, [&](int64_t b) {
        T_* ab = ap + b * sp.width;
        T_* ai = sp.has_i ? ab + sp.at_i : nullptr;
        T_* af = sp.has_f ? ab + sp.at_f : nullptr;
        T_* ag = ab + sp.at_g;
        T_* ao = sp.has_o ? ab + sp.at_o : nullptr;
        const T_* c = cp + b * H;
        T_* c_new = cn + b * H;
        T_* s = sp_t + b * H;
        T_* m = mp + b * (sp.proj ? H : R);
        if (!active(t, b)) {  // an ended sequence keeps its state and outputs zeros
          std::copy(c, c + H, c_new);
          if (sp.output_act) std::fill(s, s + H, T_(0));
          if (sp.proj) {
            std::fill(m, m + H, T_(0));
          } else {
            std::copy(hp + b * R, hp + (b + 1) * R, m);
            std::fill(op + b * R, op + (b + 1) * R, T_(0));
          }
          if (gn) std::copy(gp + b * 3 * H, gp + (b + 1) * 3 * H, gn + b * 3 * H);
          return;
        }
        if (ai) sigmoid_row(ai, p_i, c, H);
        if (af) sigmoid_row(af, p_f, c, H);
        if (sp.input_act) tanh_row(ag, ag, H);
        if (sp.coupled) {
          for (int64_t j = 0; j < H; ++j) c_new[j] = (T_(1) - ai[j]) * c[j] + ai[j] * ag[j];
        } else if (ai && af) {
          for (int64_t j = 0; j < H; ++j) c_new[j] = af[j] * c[j] + ai[j] * ag[j];
        } else if (ai) {
          for (int64_t j = 0; j < H; ++j) c_new[j] = c[j] + ai[j] * ag[j];
        } else if (af) {
          for (int64_t j = 0; j < H; ++j) c_new[j] = af[j] * c[j] + ag[j];
        } else {
          for (int64_t j = 0; j < H; ++j) c_new[j] = c[j] + ag[j];
        }
        if (ao) sigmoid_row(ao, p_o, c_new, H);
        if (sp.output_act) tanh_row(s, c_new, H);
        if (ao) {
          for (int64_t j = 0; j < H; ++j) m[j] = ao[j] * s[j];
        } else {
          std::copy(s, s + H, m);
        }
        if (op) std::copy(m, m + H, op + b * R);
        if (gn) {  // the FGR gate state [i; f; o]
          std::copy(ai, ai + 2 * H, gn + b * 3 * H);
          std::copy(ao, ao + H, gn + b * 3 * H + 2 * H);
        }
      });
      if (sp.proj) {
        Tensor h_new = hs[t + 1];
        at::mm_out(h_new, ms[t], w_hr.t());
        if (given(lengths)) {
          const Tensor on = (lengths > t).unsqueeze(1);
          h_new.copy_(at::where(on, h_new, h_prev));
          Tensor out_t = out[t];
          at::mul_out(out_t, h_new, on);
        } else {
          out[t].copy_(h_new);
        }
      }
    }
  });
  return {out, hs[T], cs[T], sp.fgr ? gs[T] : Tensor(), hs, cs, acts, ss, ms, gs};
}

// grads: [d_out (T,B,R), d_h_n, d_c_n, d_gates_n]; saved: [hs, cs, acts, ss, ms, gs]
// -> gradients of [x_proj, h0, c0, gates0, weight_hh, bias_hh, weight_ch, weight_gg, weight_hr,
//    lengths (none), mask (none)]
TensorList lstm_backward(const TensorList& grads, const TensorList& saved, const TensorList& in,
                         const std::vector<int64_t>& options) {
  const Tensor d_out = grads[0].contiguous();
  const Tensor &hs = saved[0], &cs = saved[1], &acts = saved[2], &ss = saved[3], &ms = saved[4],
               &gs = saved[5];
  const Tensor &w_hh = in[4], &b_hh = in[5], &w_ch = in[6], &w_gg = in[7], &w_hr = in[8],
               &lengths = in[9], &mask = in[10];
  const int64_t T = acts.size(0), B = acts.size(1), H = cs.size(2), R = hs.size(2);
  const Spec sp(options, H, given(w_ch));
  const auto opts = acts.options();
  const Tensor& s_all = sp.output_act ? ss : cs.narrow(0, 1, T);  // s = tanh(c_t) or c_t
  // Running gradients w.r.t. the state after step t.
  Tensor dh = grads[1].clone(), dc = grads[2].clone();
  Tensor dg = sp.fgr ? grads[3].clone() : Tensor();
  Tensor d_pre = at::empty({T, B, sp.width}, opts);
  Tensor d_from = sp.fgr ? at::empty({T, B, 3 * H}, opts) : Tensor();  // d[a_i; a_f; a_o]
  Tensor d_hm = sp.proj ? at::empty({T, B, R}, opts) : Tensor();       // dL/d(W_hr m_t)
  Tensor dm_buf = at::empty({B, H}, opts);
  const Active active = active_from(lengths);
  AT_DISPATCH_FLOATING_TYPES(acts.scalar_type(), "lstm_backward", [&] {
    const scalar_t* pw = sp.peep ? w_ch.data_ptr<scalar_t>() : nullptr;
    for (int64_t t = T - 1; t >= 0; --t) {
      // h_t is both the output and the fed-back state: its gradient is the sum of both.
      Tensor dh_total = dh + d_out[t];
      if (sp.proj) {
        // h_t = W_hr m_t: dm = W_hr^T dh, and dW_hr gathers dh m^T over the active steps.
        if (given(lengths)) dh_total.mul_((lengths > t).unsqueeze(1));
        d_hm[t].copy_(dh_total);
        at::mm_out(dm_buf, dh_total, w_hr);
      } else {
        dm_buf.copy_(dh_total);
      }
      const scalar_t* dm = dm_buf.data_ptr<scalar_t>();
      const scalar_t* act = acts[t].data_ptr<scalar_t>();
      const scalar_t* c_prev = cs[t].data_ptr<scalar_t>();
      const scalar_t* s_t = s_all[t].data_ptr<scalar_t>();
      scalar_t* dcp = dc.data_ptr<scalar_t>();  // in: dL/dc_t, out: dL/dc_{t-1}
      scalar_t* dgp = sp.fgr ? dg.data_ptr<scalar_t>() : nullptr;
      scalar_t* dp = d_pre[t].data_ptr<scalar_t>();
      scalar_t* dfrom = sp.fgr ? d_from[t].data_ptr<scalar_t>() : nullptr;
      for_rows(B, sp.width, [&](int64_t b) {
        scalar_t* dpb = dp + b * sp.width;
        scalar_t* dfb = dfrom ? dfrom + b * 3 * H : nullptr;
        if (!active(t, b)) {  // the state was carried: its gradients pass through unchanged
          std::fill(dpb, dpb + sp.width, scalar_t(0));
          if (dfb) std::fill(dfb, dfb + 3 * H, scalar_t(0));
          return;
        }
        const scalar_t* ab = act + b * sp.width;
        for (int64_t j = 0; j < H; ++j) {
          const int64_t bj = b * H + j;
          const scalar_t i = sp.has_i ? ab[sp.at_i + j] : scalar_t(1);
          const scalar_t f = sp.coupled ? scalar_t(1) - i : sp.has_f ? ab[sp.at_f + j] : scalar_t(1);
          const scalar_t g = ab[sp.at_g + j], o = sp.has_o ? ab[sp.at_o + j] : scalar_t(1);
          const scalar_t c = c_prev[bj], s = s_t[bj];
          // FGR: this step's gates are also state, read by the next step's pre-activations.
          const scalar_t dg_i = dgp ? dgp[b * 3 * H + j] : 0, dg_f = dgp ? dgp[b * 3 * H + H + j] : 0,
                         dg_o = dgp ? dgp[b * 3 * H + 2 * H + j] : 0;
          // m = o s, s = act(c_t)
          scalar_t dcn = dcp[bj] + dm[bj] * o * (sp.output_act ? scalar_t(1) - s * s : scalar_t(1));
          scalar_t da_o = 0;
          if (sp.has_o) {
            da_o = (dm[bj] * s + dg_o) * o * (scalar_t(1) - o);  // sigm' = o (1 - o)
            if (sp.peep_o >= 0) dcn += da_o * pw[sp.peep_o * H + j];  // o sees c_t via p_o
          }
          // c_t = f c_{t-1} + i g
          scalar_t di = dcn * g + dg_i, df = dcn * c + dg_f;
          scalar_t dc_prev = dcn * f;
          const scalar_t da_g = dcn * i * (sp.input_act ? scalar_t(1) - g * g : scalar_t(1));
          if (sp.coupled) di -= df;  // f = 1 - i
          const scalar_t da_i = sp.has_i ? di * i * (scalar_t(1) - i) : 0;
          const scalar_t da_f = sp.has_f ? df * f * (scalar_t(1) - f) : 0;
          // peepholes: a_i, a_f += p c_{t-1}
          if (sp.peep_i >= 0) dc_prev += da_i * pw[sp.peep_i * H + j];
          if (sp.peep_f >= 0) dc_prev += da_f * pw[sp.peep_f * H + j];
          if (sp.has_i) dpb[sp.at_i + j] = da_i;
          if (sp.has_f) dpb[sp.at_f + j] = da_f;
          dpb[sp.at_g + j] = da_g;
          if (sp.has_o) dpb[sp.at_o + j] = da_o;
          if (dfb) {
            dfb[j] = da_i;
            dfb[H + j] = da_f;
            dfb[2 * H + j] = da_o;
          }
          dcp[bj] = dc_prev;
        }
      });
      // a = ... + W_hh (m * h_{t-1}): dh_{t-1} = m * (W_hh^T da); ended sequences pass through
      Tensor dh_prev = d_pre[t].mm(w_hh);
      if (given(mask)) dh_prev.mul_(mask);
      Tensor dg_prev = sp.fgr ? d_from[t].mm(w_gg) : Tensor();  // a_ifo += V g_{t-1}
      if (given(lengths)) {
        const Tensor on = (lengths > t).unsqueeze(1);
        dh_prev = at::where(on, dh_prev, dh);
        if (sp.fgr) dg_prev = at::where(on, dg_prev, dg);
      }
      dh = dh_prev;
      if (sp.fgr) dg = dg_prev;
    }
  });
  // The recurrent weights' gradients: one product each over all T*B rows.
  const Tensor h_prev = hs.narrow(0, 0, T);
  const Tensor d_w_hh = weight_grad(d_pre, given(mask) ? h_prev * mask : h_prev);
  const Tensor d_b_hh = given(b_hh) ? d_pre.sum({0, 1}) : Tensor();
  Tensor d_w_ch;
  if (sp.peep) {
    // p_k's gradient: sum over steps and rows of da_k * the cell it sees
    std::vector<Tensor> rows;
    const Tensor c_before = cs.narrow(0, 0, T), c_after = cs.narrow(0, 1, T);
    if (sp.peep_i >= 0) rows.push_back((d_pre.narrow(2, sp.at_i, H) * c_before).sum({0, 1}));
    if (sp.peep_f >= 0) rows.push_back((d_pre.narrow(2, sp.at_f, H) * c_before).sum({0, 1}));
    if (sp.peep_o >= 0) rows.push_back((d_pre.narrow(2, sp.at_o, H) * c_after).sum({0, 1}));
    d_w_ch = rows.empty() ? at::zeros_like(w_ch) : at::stack(rows);
  }
  const Tensor d_w_gg = sp.fgr ? weight_grad(d_from, gs.narrow(0, 0, T)) : Tensor();
  const Tensor d_w_hr = sp.proj ? weight_grad(d_hm, ms) : Tensor();
  return {d_pre, dh, dc, sp.fgr ? dg : Tensor(), d_w_hh, d_b_hh, d_w_ch, d_w_gg, d_w_hr,
          Tensor(), Tensor()};
}

}  // namespace rnnkit
