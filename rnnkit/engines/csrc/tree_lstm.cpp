// Binary Tree-LSTM (Tai et al. 2015) over a batch of trees, level by level, with a hand-written
// backward (backpropagation through structure). The rows of layers/tree.py: row 0 is "no
// child" (zeros), rows 1..L the leaves, then the nodes of each height in turn. Per node:
//   leaf:   (i, g, o) = leaf_pre                      (W_ih x + b_ih, computed in autograd)
//   inner:  (i, f1, f2, g, o) = W_hh [h_1; h_2] + b_hh
//   c = sigm(i) tanh(g) + sigm(f1) c_1 + sigm(f2) c_2   (nothing carried at a leaf)
//   h = sigm(o) tanh(c)
// Why C++: the Python level loop spends most of a batch of 25 SST trees dispatching a dozen
// small operations per level, twice (forward, then autograd's backward per level). Here a level
// is one matrix product and a few vectorized activations forward, one product and two passes
// backward, and W_hh's gradient is one product over all inner nodes after the loop.
#include "common.h"

namespace rnnkit {

namespace {

// The activations of rows [row0, row0 + n) of the gate table G (columns i, f1, f2, g, o, H
// each) in place: sigmoid on i, f1, f2 and o, tanh on g.
void activate_gates(Tensor& G, int64_t row0, int64_t n, int64_t H) {
  Tensor rows = G.narrow(0, row0, n);
  rows.narrow(1, 0, 3 * H).sigmoid_();
  rows.narrow(1, 3 * H, H).tanh_();
  rows.narrow(1, 4 * H, H).sigmoid_();
}

}  // namespace

// inputs: leaf_pre (L, 3H), weight_hh (5H, 2H), bias_hh (5H), children (M, 2) int64 rows,
//         level_sizes (levels,) int64: the children of each height's nodes, one after another
// -> [h (L + M, H) every node's h in row order; saved: Ht, Ct, TCt (N + 1, H) the tables of h,
//     c and tanh c, G (N + 1, 5H) the activated gates, X (M, 2H) each inner node's [h_1; h_2]]
TensorList tree_lstm_forward(const TensorList& in, const std::vector<int64_t>&) {
  const Tensor &leaf_pre = in[0], &w_hh = in[1], &b_hh = in[2], &children = in[3],
               &level_sizes = in[4];
  const int64_t L = leaf_pre.size(0), H = leaf_pre.size(1) / 3, M = children.size(0);
  const int64_t N = L + M;
  const auto opts = leaf_pre.options();
  // Every row is written before it is read, but row 0 ("no child": h = c = 0), so only that
  // row is zeroed; clearing whole tables was a fifth of an inference step on SST.
  Tensor Ht = at::empty({N + 1, H}, opts), Ct = at::empty({N + 1, H}, opts);
  Tensor TCt = at::empty({N + 1, H}, opts), G = at::empty({N + 1, 5 * H}, opts);
  Tensor X = at::empty({M, 2 * H}, opts);
  for (Tensor* t : {&Ht, &Ct, &TCt, &G}) t->narrow(0, 0, 1).zero_();
  // The leaves' gates into G's i, g and o columns (f1 and f2 are unused there: zero).
  Tensor leaf_rows = G.narrow(0, 1, L);
  leaf_rows.narrow(1, 0, H).copy_(leaf_pre.narrow(1, 0, H));
  leaf_rows.narrow(1, H, 2 * H).zero_();
  leaf_rows.narrow(1, 3 * H, 2 * H).copy_(leaf_pre.narrow(1, H, 2 * H));
  activate_gates(G, 1, L, H);
  const Tensor w_t = w_hh.t();
  const int64_t* ch = children.data_ptr<int64_t>();
  const int64_t* sizes = level_sizes.data_ptr<int64_t>();
  AT_DISPATCH_FLOATING_TYPES(leaf_pre.scalar_type(), "tree_lstm_forward", [&] {
    scalar_t* h = Ht.data_ptr<scalar_t>();
    scalar_t* c = Ct.data_ptr<scalar_t>();
    scalar_t* tc = TCt.data_ptr<scalar_t>();
    const scalar_t* g = G.data_ptr<scalar_t>();
    scalar_t* x = X.data_ptr<scalar_t>();
    // rows [row0, row0 + n): c from the gates and the children's c, then h = sigm(o) tanh(c)
    auto finish = [&](int64_t row0, int64_t n, int64_t m0) {
      for_rows(n, 5 * H, [&](int64_t k) {
        const int64_t r = row0 + k;
        const scalar_t* gr = g + r * 5 * H;
        scalar_t* cr = c + r * H;
        for (int64_t j = 0; j < H; ++j) cr[j] = gr[j] * gr[3 * H + j];
        if (m0 >= 0) {
          const scalar_t* c1 = c + ch[2 * (m0 + k)] * H;
          const scalar_t* c2 = c + ch[2 * (m0 + k) + 1] * H;
          for (int64_t j = 0; j < H; ++j) cr[j] += gr[H + j] * c1[j] + gr[2 * H + j] * c2[j];
        }
      });
      Tensor tanh_rows = TCt.narrow(0, row0, n);
      at::tanh_out(tanh_rows, Ct.narrow(0, row0, n));
      for_rows(n, H, [&](int64_t k) {
        const int64_t r = row0 + k;
        const scalar_t* gr = g + r * 5 * H;
        for (int64_t j = 0; j < H; ++j) h[r * H + j] = gr[4 * H + j] * tc[r * H + j];
      });
    };
    finish(1, L, -1);
    int64_t row0 = 1 + L, m0 = 0;
    for (int64_t level = 0; level < level_sizes.size(0); ++level) {
      const int64_t n = sizes[level];
      for_rows(n, 2 * H, [&](int64_t k) {  // X = [h_1; h_2] of each node
        std::copy_n(h + ch[2 * (m0 + k)] * H, H, x + (m0 + k) * 2 * H);
        std::copy_n(h + ch[2 * (m0 + k) + 1] * H, H, x + (m0 + k) * 2 * H + H);
      });
      Tensor gates = G.narrow(0, row0, n);
      at::addmm_out(gates, b_hh, X.narrow(0, m0, n), w_t);
      activate_gates(G, row0, n, H);
      finish(row0, n, m0);
      row0 += n;
      m0 += n;
    }
  });
  return {Ht.narrow(0, 1, N).clone(), Ht, Ct, TCt, G, X};
}

// grads: [d_h (N, H)]; saved: [Ht, Ct, TCt, G, X]
// -> [d_leaf_pre, d_weight_hh, d_bias_hh, (none), (none)]
TensorList tree_lstm_backward(const TensorList& grads, const TensorList& saved,
                              const TensorList& in, const std::vector<int64_t>&) {
  const Tensor &Ct = saved[1], &TCt = saved[2], &G = saved[3], &X = saved[4];
  const Tensor &w_hh = in[1], &children = in[3], &level_sizes = in[4];
  const int64_t N = Ct.size(0) - 1, H = Ct.size(1), M = X.size(0), L = N - M;
  const int64_t levels = level_sizes.size(0);
  Tensor dCt = at::zeros({N + 1, H}, Ct.options());  // filled by += from the parents
  Tensor dHt = given(grads[0]) ? at::cat({dCt.narrow(0, 0, 1), grads[0]}) : at::zeros_like(dCt);
  Tensor dP = at::empty({M, 5 * H}, Ct.options());  // d pre-activations of every inner node
  Tensor d_leaf_pre = at::empty({L, 3 * H}, Ct.options());
  const int64_t* ch = children.data_ptr<int64_t>();
  const int64_t* sizes = level_sizes.data_ptr<int64_t>();
  std::vector<int64_t> starts(levels + 1, 0);  // each level's first index into children
  for (int64_t level = 0; level < levels; ++level) starts[level + 1] = starts[level] + sizes[level];
  AT_DISPATCH_FLOATING_TYPES(Ct.scalar_type(), "tree_lstm_backward", [&] {
    const scalar_t* c = Ct.data_ptr<scalar_t>();
    const scalar_t* tc = TCt.data_ptr<scalar_t>();
    const scalar_t* g = G.data_ptr<scalar_t>();
    scalar_t* dh = dHt.data_ptr<scalar_t>();
    scalar_t* dc = dCt.data_ptr<scalar_t>();
    // node r: from d h_r and d c_r (all its parents' contributions are in by now) to the
    // gradients of its pre-activations; d_pre points at (i, f1, f2, g, o), or (i, g, o) for a
    // leaf (f null). dc[r] becomes the total d c_r, which an inner node passes on to c_1, c_2.
    auto node = [&](int64_t r, scalar_t* di, scalar_t* df, scalar_t* dg, scalar_t* d_o) {
      const scalar_t* gr = g + r * 5 * H;
      for (int64_t j = 0; j < H; ++j) {
        const scalar_t t = tc[r * H + j], i = gr[j], gg = gr[3 * H + j], o = gr[4 * H + j];
        const scalar_t dhr = dh[r * H + j];
        const scalar_t dcr = dc[r * H + j] + dhr * o * (scalar_t(1) - t * t);  // h = o tanh c
        dc[r * H + j] = dcr;
        d_o[j] = dhr * t * o * (scalar_t(1) - o);
        di[j] = dcr * gg * i * (scalar_t(1) - i);        // c = i g + ...
        dg[j] = dcr * i * (scalar_t(1) - gg * gg);
        if (df != nullptr) {
          const int64_t m = r - 1 - L;
          const scalar_t f1 = gr[H + j], f2 = gr[2 * H + j];
          df[j] = dcr * c[ch[2 * m] * H + j] * f1 * (scalar_t(1) - f1);  // ... + f1 c_1 + f2 c_2
          df[H + j] = dcr * c[ch[2 * m + 1] * H + j] * f2 * (scalar_t(1) - f2);
        }
      }
    };
    for (int64_t level = levels - 1; level >= 0; --level) {
      const int64_t m0 = starts[level], n = sizes[level], row0 = 1 + L + m0;
      scalar_t* dp = dP.data_ptr<scalar_t>();
      for_rows(n, 5 * H, [&](int64_t k) {
        scalar_t* d = dp + (m0 + k) * 5 * H;
        node(row0 + k, d, d + H, d + 3 * H, d + 4 * H);
      });
      // the children: d c_k += f_k d c, and d [h_1; h_2] = W_hh^T d_pre. A child has one parent,
      // so the nodes of a level write disjoint rows (except row 0, "no child", never read).
      const Tensor d_x = dP.narrow(0, m0, n).mm(w_hh);
      const scalar_t* dxp = d_x.data_ptr<scalar_t>();
      for_rows(n, 2 * H, [&](int64_t k) {
        const int64_t r = row0 + k, m = m0 + k;
        const scalar_t* gr = g + r * 5 * H;
        for (int64_t side = 0; side < 2; ++side) {
          const int64_t child = ch[2 * m + side];
          const scalar_t* f = gr + (1 + side) * H;
          const scalar_t* dxs = dxp + k * 2 * H + side * H;
          for (int64_t j = 0; j < H; ++j) {
            dc[child * H + j] += f[j] * dc[r * H + j];
            dh[child * H + j] += dxs[j];
          }
        }
      });
    }
    scalar_t* dl = d_leaf_pre.data_ptr<scalar_t>();
    for_rows(L, 3 * H, [&](int64_t k) {
      scalar_t* d = dl + k * 3 * H;
      node(1 + k, d, nullptr, d + H, d + 2 * H);
    });
  });
  return {d_leaf_pre, dP.t().mm(X), dP.sum(0), Tensor(), Tensor()};
}

}  // namespace rnnkit
