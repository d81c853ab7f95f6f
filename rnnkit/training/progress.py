"""What a run shows while it trains: a tqdm progress bar with the loss, the task's metric, the
learning rate and the throughput, or in quiet mode plain lines at each evaluation (for logs).
Both go to stderr; only rank 0 shows anything."""

from __future__ import annotations

import sys
import time

from tqdm import tqdm


class Progress:
    def __init__(self, total: int, initial: int, unit: str, *, quiet: bool, enabled: bool):
        self.unit = "tok" if unit == "tokens" else "seq"
        self.quiet, self.enabled = quiet, enabled
        self.start, self.counted = time.perf_counter(), 0
        self.bar = None
        if enabled and not quiet:
            self.bar = tqdm(total=total, initial=initial, unit="step", dynamic_ncols=True,
                            file=sys.stderr)

    def rate(self) -> float:
        """Sequences or tokens per second since this process started training."""
        return self.counted / max(time.perf_counter() - self.start, 1e-9)

    def step(self, count: int, metrics: dict[str, float], metric: str, lr: float) -> None:
        self.counted += count
        if self.bar is not None:
            self.bar.set_postfix({"loss": f"{metrics['loss']:.4g}",
                                  metric: f"{metrics[metric]:.4g}", "lr": f"{lr:.3g}",
                                  f"{self.unit}/s": f"{self.rate():.0f}"}, refresh=False)
            self.bar.update(1)

    def rewind(self, step: int) -> None:
        """Back to `step` (after a rollback)."""
        if self.bar is not None:
            self.bar.n = step
            self.bar.refresh()

    def evaluated(self, step: int, epoch: int, metrics: dict[str, float], lr: float) -> None:
        shown = "  ".join(f"{k} {v:.4g}" for k, v in metrics.items())
        self.message(f"step {step} (epoch {epoch}): valid {shown}  lr {lr:.3g}  "
                     f"{self.rate():.0f} {self.unit}/s")

    def message(self, text: str) -> None:
        if not self.enabled:
            return
        if self.bar is not None:
            self.bar.write(text, file=sys.stderr)
        else:
            print(text, file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
