"""The names a user types on the command line: data splits, export formats, cells and their
options. They live here, in a module that imports nothing, so that the command line's parsers
(and every `--help`) need no torch; the modules that use them import them from here."""

SPLITS = ("train", "valid", "test")
EXPORT_FORMATS = ("onnx", "torchscript")
NETWORK_CELLS = ("lstm", "gru", "elman", "jordan", "mut1", "mut2", "mut3", "stack")
# The stack cell (`cells/stack.py`) notes no values for the probe, so explain has nothing to show.
EXPLAIN_CELLS = tuple(cell for cell in NETWORK_CELLS if cell != "stack")
ELMAN_NONLINEARITIES = ("tanh", "relu", "sigmoid")
JORDAN_OUTPUT_ACTIVATIONS = ("tanh", "sigmoid", "identity")
RECURRENT_INITS = ("default", "orthogonal", "identity")
