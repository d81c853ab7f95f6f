// Stack RNN (Joulin & Mikolov 2015; rnnkit/cells/stack.py), S stacks of D entries, top first:
//   read = the top k entries of each stack at t-1                          (B, S k)
//   h_t  = sigm(x_proj[t] + P read + R (m * h_{t-1}))    (no R without hidden recurrence)
//   a    = softmax over each stack's n actions (PUSH, POP, NO-OP) of A h_t + b_A
//   v    = sigm(D h_t + b_D)                                               (B, S)
//   s_t[i] = a[PUSH] pushed[i] + a[POP] popped[i] (+ a[NO-OP] s_{t-1}[i])
//   pushed = [v; s_{t-1}[0 .. D-2]],  popped = [s_{t-1}[1 .. D-1]; EMPTY]
// The continuous stack only: the rounding at test time (discrete) runs on the loop engine.
#include "common.h"

namespace rnnkit {

namespace {

constexpr double EMPTY = -1.0;  // an empty entry, as rnnkit.cells.stack.EMPTY
enum { PUSH = 0, POP = 1, NO_OP = 2 };

// (B, S D) stacks -> (B, S k): the top k entries of each, what the hidden layer reads.
Tensor top_entries(const Tensor& stacks, int64_t S, int64_t D, int64_t k) {
  return stacks.reshape({-1, S, D}).narrow(2, 0, k).reshape({-1, S * k});
}

}  // namespace

// inputs: x_proj (T,B,H), h0 (B,H), stack0 (B,S D), weight_hh (H,H) or empty, weight_sh
//         (H,S k), weight_action (S n,H), bias_action (S n), weight_push (S,H), bias_push (S),
//         lengths, mask
// options: [S, D, k, n]
// -> [out (T,B,H), h_n (B,H), stack_n (B,S D) | hs (T+1,B,H), stacks (T+1,B,S D),
//     actions (T,B,S n), values (T,B,S)]
TensorList stack_forward(const TensorList& in, const std::vector<int64_t>& options) {
  const Tensor &x_proj = in[0], &h0 = in[1], &stack0 = in[2], &w_hh = in[3], &w_sh = in[4],
               &w_a = in[5], &b_a = in[6], &w_p = in[7], &b_p = in[8], &lengths = in[9];
  const Tensor mask = given(in[10]) ? in[10].contiguous() : Tensor();
  const int64_t S = options[0], D = options[1], k = options[2], n = options[3];
  const int64_t T = x_proj.size(0), B = x_proj.size(1), H = x_proj.size(2);
  const auto opts = x_proj.options();
  Tensor hs = at::empty({T + 1, B, H}, opts), stacks = at::empty({T + 1, B, S * D}, opts);
  hs[0].copy_(h0);
  stacks[0].copy_(stack0);
  Tensor out = at::empty({T, B, H}, opts), actions = at::empty({T, B, S * n}, opts);
  Tensor values = at::empty({T, B, S}, opts), pre = at::empty({B, H}, opts);
  const Active active = active_from(lengths);
  AT_DISPATCH_FLOATING_TYPES(x_proj.scalar_type(), "stack_forward", [&] {
    for (int64_t t = 0; t < T; ++t) {
      const Tensor h_prev = hs[t], s_prev = stacks[t];
      at::addmm_out(pre, x_proj[t], top_entries(s_prev, S, D, k), w_sh.t());
      if (given(w_hh)) pre.addmm_(given(mask) ? h_prev * mask : h_prev, w_hh.t());
      pre.sigmoid_();
      Tensor a_t = actions[t], v_t = values[t];
      at::addmm_out(a_t, b_a, pre, w_a.t());
      a_t.copy_(at::softmax(a_t.view({B, S, n}), -1).view({B, S * n}));
      at::addmm_out(v_t, b_p, pre, w_p.t()).sigmoid_();
      const scalar_t* h = pre.data_ptr<scalar_t>();
      const scalar_t* a = a_t.data_ptr<scalar_t>();
      const scalar_t* v = v_t.data_ptr<scalar_t>();
      const scalar_t* hp = h_prev.data_ptr<scalar_t>();
      const scalar_t* sp = s_prev.data_ptr<scalar_t>();
      scalar_t* hn = hs[t + 1].data_ptr<scalar_t>();
      scalar_t* sn = stacks[t + 1].data_ptr<scalar_t>();
      scalar_t* o = out[t].data_ptr<scalar_t>();
      for_rows(B, S * D, [&](int64_t b) {
        const bool on = active(t, b);
        for (int64_t j = b * H; j < (b + 1) * H; ++j) {
          hn[j] = on ? h[j] : hp[j];
          o[j] = on ? h[j] : scalar_t(0);
        }
        for (int64_t s = 0; s < S; ++s) {
          const scalar_t* old = sp + (b * S + s) * D;
          scalar_t* now = sn + (b * S + s) * D;
          if (!on) {
            std::copy_n(old, D, now);
            continue;
          }
          const scalar_t* as = a + (b * S + s) * n;
          const scalar_t noop = n > NO_OP ? as[NO_OP] : scalar_t(0);
          for (int64_t i = 0; i < D; ++i) {
            const scalar_t pushed = i == 0 ? v[b * S + s] : old[i - 1];
            const scalar_t popped = i + 1 < D ? old[i + 1] : scalar_t(EMPTY);
            now[i] = as[PUSH] * pushed + as[POP] * popped + noop * old[i];
          }
        }
      });
    }
  });
  return {out, hs[T], stacks[T], hs, stacks, actions, values};
}

// grads: [d_out (T,B,H), d_h_n (B,H), d_stack_n (B,S D)]; saved: [hs, stacks, actions, values]
// -> [d_x_proj, d_h0, d_stack0, d_weight_hh, d_weight_sh, d_weight_action, d_bias_action,
//     d_weight_push, d_bias_push, (none), (none)]
TensorList stack_backward(const TensorList& grads, const TensorList& saved, const TensorList& in,
                          const std::vector<int64_t>& options) {
  const Tensor &hs = saved[0], &stacks = saved[1], &actions = saved[2], &values = saved[3];
  const Tensor &w_hh = in[3], &w_sh = in[4], &w_a = in[5], &w_p = in[7], &lengths = in[9];
  const Tensor mask = given(in[10]) ? in[10].contiguous() : Tensor();
  const int64_t S = options[0], D = options[1], k = options[2], n = options[3];
  const int64_t T = hs.size(0) - 1, B = hs.size(1), H = hs.size(2);
  const auto opts = hs.options();
  const Tensor d_out = given(grads[0]) ? grads[0].contiguous() : at::zeros({T, B, H}, opts);
  Tensor dh = given(grads[1]) ? grads[1].clone() : at::zeros({B, H}, opts);
  Tensor ds = given(grads[2]) ? grads[2].clone() : at::zeros({B, S * D}, opts);
  Tensor ds_prev = at::empty({B, S * D}, opts);
  Tensor dz = at::zeros({T, B, H}, opts);              // d pre-activation of h, every step
  Tensor d_logits = at::zeros({T, B, S * n}, opts);    // d of A h + b_A
  Tensor d_push = at::zeros({T, B, S}, opts);          // d of D h + b_D
  const Active active = active_from(lengths);
  AT_DISPATCH_FLOATING_TYPES(hs.scalar_type(), "stack_backward", [&] {
    for (int64_t t = T - 1; t >= 0; --t) {
      const scalar_t* a = actions[t].data_ptr<scalar_t>();
      const scalar_t* v = values[t].data_ptr<scalar_t>();
      const scalar_t* sp = stacks[t].data_ptr<scalar_t>();
      const scalar_t* dn = ds.data_ptr<scalar_t>();
      scalar_t* dsp = ds_prev.data_ptr<scalar_t>();
      scalar_t* dl = d_logits[t].data_ptr<scalar_t>();
      scalar_t* dpu = d_push[t].data_ptr<scalar_t>();
      // The stack update read backwards: entry i of s_{t-1} reaches i+1 (PUSH), i-1 (POP) and
      // i (NO-OP); each action's weight gets the dot product of d s_t with what it moved.
      for_rows(B, S * D, [&](int64_t b) {
        const bool on = active(t, b);
        for (int64_t s = 0; s < S; ++s) {
          const int64_t row = (b * S + s) * D;
          const scalar_t* old = sp + row;
          const scalar_t* d_new = dn + row;
          scalar_t* d_old = dsp + row;
          if (!on) {  // an ended sequence passes its stack (and so the gradient) through
            std::copy_n(d_new, D, d_old);
            continue;
          }
          const scalar_t* as = a + (b * S + s) * n;
          const scalar_t noop = n > NO_OP ? as[NO_OP] : scalar_t(0);
          scalar_t da[3] = {0, 0, 0};
          for (int64_t i = 0; i < D; ++i) {
            const scalar_t pushed = i == 0 ? v[b * S + s] : old[i - 1];
            const scalar_t popped = i + 1 < D ? old[i + 1] : scalar_t(EMPTY);
            da[PUSH] += d_new[i] * pushed;
            da[POP] += d_new[i] * popped;
            da[NO_OP] += d_new[i] * old[i];
            d_old[i] = (i + 1 < D ? as[PUSH] * d_new[i + 1] : scalar_t(0)) +
                       (i > 0 ? as[POP] * d_new[i - 1] : scalar_t(0)) + noop * d_new[i];
          }
          // softmax: d logits = a (d a - <a, d a>); sigmoid: d pre = v (1 - v) d v
          scalar_t dot = 0;
          for (int64_t j = 0; j < n; ++j) dot += as[j] * da[j];
          for (int64_t j = 0; j < n; ++j) dl[(b * S + s) * n + j] = as[j] * (da[j] - dot);
          const scalar_t vs = v[b * S + s];
          dpu[b * S + s] = as[PUSH] * d_new[0] * vs * (scalar_t(1) - vs);
        }
      });
      // h_t feeds the output, R at t+1 (in dh), the actions and the pushed values
      Tensor dh_t = d_logits[t].mm(w_a).add_(d_push[t].mm(w_p)).add_(d_out[t]).add_(dh);
      const scalar_t* h = hs[t + 1].data_ptr<scalar_t>();
      scalar_t* dzt = dz[t].data_ptr<scalar_t>();
      const scalar_t* dht = dh_t.data_ptr<scalar_t>();
      for_rows(B, H, [&](int64_t b) {
        if (!active(t, b)) return;  // dz stays 0
        for (int64_t j = b * H; j < (b + 1) * H; ++j)
          dzt[j] = dht[j] * h[j] * (scalar_t(1) - h[j]);
      });
      // the pre-activation read the top k of s_{t-1} through P, and m * h_{t-1} through R
      ds_prev.view({B, S, D}).narrow(2, 0, k).add_(dz[t].mm(w_sh).view({B, S, k}));
      Tensor dh_prev = given(w_hh) ? dz[t].mm(w_hh) : at::zeros({B, H}, opts);
      if (given(mask)) dh_prev.mul_(mask);
      if (given(lengths)) dh_prev = at::where((lengths > t).unsqueeze(1), dh_prev, dh);
      dh = dh_prev;
      std::swap(ds, ds_prev);
    }
  });
  const Tensor h_prev = hs.narrow(0, 0, T), h_new = hs.narrow(0, 1, T);
  const Tensor reads = top_entries(stacks.narrow(0, 0, T).reshape({T * B, S * D}), S, D, k);
  Tensor d_w_hh;
  if (given(w_hh)) d_w_hh = weight_grad(dz, given(mask) ? h_prev * mask : h_prev);
  return {dz, dh, ds, d_w_hh, weight_grad(dz, reads), weight_grad(d_logits, h_new),
          d_logits.sum({0, 1}), weight_grad(d_push, h_new), d_push.sum({0, 1}), Tensor(),
          Tensor()};
}

}  // namespace rnnkit
