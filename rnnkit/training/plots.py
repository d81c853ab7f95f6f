"""PNG plots of a run from its metrics log: the loss, the validation metrics, and the gradient
norm before clipping, each against the optimiser step."""

from __future__ import annotations

from pathlib import Path

from rnnkit.training.checkpoint import atomic_write
from rnnkit.training.metrics import FILE, read

PLOTS = ("loss.png", "metrics.png", "grad_norm.png")


def plot_run(folder: str | Path, clip_norm: float = 0.0) -> list[Path]:
    """Write the plots of the run in `folder`, with the clipping threshold if there is one;
    returns their paths."""
    # Imported here: pyplot takes a second to import, which only runs that plot should pay.
    import matplotlib
    matplotlib.use("Agg")  # files only: no display needed, no GUI toolkit imported
    import matplotlib.pyplot as plt

    folder = Path(folder)
    records = read(folder / FILE)
    train = [r for r in records if r["split"] == "train"]
    valid = [r for r in records if r["split"] == "valid"]
    metrics = [k for k in (valid[0] if valid else {}) if k not in ("split", "step", "epoch")]
    written = []

    def figure(name: str, title: str, draw, log: bool = False):
        fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
        draw(ax)
        ax.set(title=title, xlabel="step")
        if log:
            ax.set_yscale("log")
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend()
        atomic_write(folder / name, lambda file: fig.savefig(file, format="png", dpi=100))
        plt.close(fig)
        written.append(folder / name)

    def losses(ax):
        ax.plot([r["step"] for r in train], [r["loss"] for r in train], lw=0.8, alpha=0.6,
                label="train")
        ax.plot([r["step"] for r in valid], [r["loss"] for r in valid], "o-", label="valid")

    def valid_metrics(ax):
        for name in metrics:
            if name != "loss":
                ax.plot([r["step"] for r in valid], [r[name] for r in valid], "o-", label=name)

    def grad_norm(ax):
        ax.plot([r["step"] for r in train], [r["grad_norm"] for r in train], lw=0.8,
                label="before clipping")
        if clip_norm:
            ax.axhline(clip_norm, color="red", ls="--", lw=1, label="clip_norm")

    figure("loss.png", "loss", losses, log=True)
    figure("metrics.png", "validation metrics", valid_metrics)
    figure("grad_norm.png", "gradient norm (global, before clipping)", grad_norm, log=True)
    return written
