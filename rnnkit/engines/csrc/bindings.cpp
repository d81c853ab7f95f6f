// The Python module of the fused engine: one forward and one backward per cell family (and
// the binary Tree-LSTM's, over the levels of a batch of trees), each following the contract of
// common.h. FAMILIES lists them once; the declarations and the bindings are made from it.
#include "common.h"

#define FAMILIES(X) X(elman) X(gru) X(mut) X(jordan) X(lstm) X(stack) X(tree_lstm)

namespace rnnkit {
#define DECLARE(family)                                                             \
  TensorList family##_forward(const TensorList&, const std::vector<int64_t>&);     \
  TensorList family##_backward(const TensorList&, const TensorList&, const TensorList&, \
                               const std::vector<int64_t>&);
FAMILIES(DECLARE)
#undef DECLARE
}  // namespace rnnkit

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
#define BIND(family)                                        \
  m.def(#family "_forward", &rnnkit::family##_forward);     \
  m.def(#family "_backward", &rnnkit::family##_backward);
  FAMILIES(BIND)
#undef BIND
}
