// The Python module of the fused engine: one forward and one backward per cell family (and
// the binary Tree-LSTM's, over the levels of a batch of trees).
#include "common.h"

namespace rnnkit {
TensorList elman_forward(const TensorList&, const std::vector<int64_t>&);
TensorList elman_backward(const TensorList&, const TensorList&, const TensorList&,
                          const std::vector<int64_t>&);
TensorList gru_forward(const TensorList&, const std::vector<int64_t>&);
TensorList gru_backward(const TensorList&, const TensorList&, const TensorList&,
                        const std::vector<int64_t>&);
TensorList mut_forward(const TensorList&, const std::vector<int64_t>&);
TensorList mut_backward(const TensorList&, const TensorList&, const TensorList&,
                        const std::vector<int64_t>&);
TensorList jordan_forward(const TensorList&, const std::vector<int64_t>&);
TensorList jordan_backward(const TensorList&, const TensorList&, const TensorList&,
                           const std::vector<int64_t>&);
TensorList lstm_forward(const TensorList&, const std::vector<int64_t>&);
TensorList lstm_backward(const TensorList&, const TensorList&, const TensorList&,
                         const std::vector<int64_t>&);
TensorList stack_forward(const TensorList&, const std::vector<int64_t>&);
TensorList stack_backward(const TensorList&, const TensorList&, const TensorList&,
                          const std::vector<int64_t>&);
TensorList tree_lstm_forward(const TensorList&, const std::vector<int64_t>&);
TensorList tree_lstm_backward(const TensorList&, const TensorList&, const TensorList&,
                              const std::vector<int64_t>&);
}  // namespace rnnkit

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.def("elman_forward", &rnnkit::elman_forward);
  m.def("elman_backward", &rnnkit::elman_backward);
  m.def("gru_forward", &rnnkit::gru_forward);
  m.def("gru_backward", &rnnkit::gru_backward);
  m.def("mut_forward", &rnnkit::mut_forward);
  m.def("mut_backward", &rnnkit::mut_backward);
  m.def("jordan_forward", &rnnkit::jordan_forward);
  m.def("jordan_backward", &rnnkit::jordan_backward);
  m.def("lstm_forward", &rnnkit::lstm_forward);
  m.def("lstm_backward", &rnnkit::lstm_backward);
  m.def("stack_forward", &rnnkit::stack_forward);
  m.def("stack_backward", &rnnkit::stack_backward);
  m.def("tree_lstm_forward", &rnnkit::tree_lstm_forward);
  m.def("tree_lstm_backward", &rnnkit::tree_lstm_backward);
}
