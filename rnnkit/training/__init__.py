"""Training: the loop (trainer.py) and what it relies on, each in its own module: the config
schema (config.py), checkpoints (checkpoint.py), truncated BPTT (tbptt.py), learning-rate
schedules (schedules.py), evaluation and restoring trained models (evaluate.py), the metrics
log (metrics.py) and its plots (plots.py), data-parallel processes (distributed.py), signals
(interrupt.py) and the progress bar (progress.py)."""
