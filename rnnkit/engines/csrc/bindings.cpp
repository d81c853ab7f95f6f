// The Python module of the fused engine: one forward and one backward per cell family.
#include "common.h"

namespace rnnkit {
TensorList elman_forward(const TensorList&, const std::vector<int64_t>&);
TensorList elman_backward(const TensorList&, const TensorList&, const TensorList&,
                          const std::vector<int64_t>&);
}  // namespace rnnkit

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.def("elman_forward", &rnnkit::elman_forward);
  m.def("elman_backward", &rnnkit::elman_backward);
}
