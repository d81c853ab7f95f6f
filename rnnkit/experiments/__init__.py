"""Experiments that train many runs and compare them (each a `python -m` module): a table and a
plot from runs that `rnnkit train` could make one by one."""
