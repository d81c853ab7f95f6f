"""See inside a recurrent network: gradient flow over time, gate activations, step-by-step
traces. Every function returns the numbers (NumPy), and the plot functions a matplotlib Figure.

    flow = gradient_norms(model, x, loss_fn)        # ||dL/dh_t||, ||dh_T/dh_t|| for every t
    result = compare_on_adding_problem()            # tanh RNN vs LSTM vs GRU, before/after training
    values = gate_activations(model, x)             # name -> (T, n): i, f, g, c, o, h, ...
    steps = trace(cell, x); print(format_trace(steps))   # the hand calculation

They read the cells through `rnnkit.cells.probe`, on the plain loop engine.
"""

from rnnkit.explain.adding import Comparison, compare_on_adding_problem, plot_learning_curves
from rnnkit.explain.gates import gate_activations, plot_gates
from rnnkit.explain.gradients import GradientFlow, gradient_norms, plot_gradients
from rnnkit.explain.report import html_report
from rnnkit.explain.trace import format_trace, trace, trace_table, write_trace_csv
from rnnkit.explain.weights import read_weights, set_weights, weights_template, write_weights

__all__ = ["GradientFlow", "gradient_norms", "plot_gradients", "Comparison",
           "compare_on_adding_problem", "plot_learning_curves", "gate_activations", "plot_gates",
           "html_report", "trace", "format_trace", "trace_table", "write_trace_csv",
           "read_weights", "set_weights", "weights_template", "write_weights"]
