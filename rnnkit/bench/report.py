"""`rnnkit bench --markdown PATH`: the records as the BENCHMARKS.md page, with the run's command
and machine, one table per case, and the grid points that miss the speed targets.

The targets (issue 3): training at most 1.10x native where H >= 256 and 1.5x at smaller H;
inference at most 1.10x everywhere; peak training memory at most 1.25x.
"""

from __future__ import annotations

TRAIN_TARGET_LARGE, TRAIN_TARGET_SMALL, LARGE_H = 1.10, 1.5, 256
INFERENCE_TARGET, MEMORY_TARGET = 1.10, 1.25


def misses(record: dict) -> list[str]:
    """What one record misses, e.g. ["train 1.32x > 1.10x"]."""
    limits = {"train": TRAIN_TARGET_LARGE if record["H"] >= LARGE_H else TRAIN_TARGET_SMALL,
              "inference": INFERENCE_TARGET}
    found = [f"{mode} {record[mode]['ratio']:.2f}x > {limit:.2f}x"
             for mode, limit in limits.items() if record[mode]["ratio"] > limit]
    memory = record.get("train_peak_memory")
    if memory is not None and memory["ratio"] > MEMORY_TARGET:
        found.append(f"memory {memory['ratio']:.2f}x > {MEMORY_TARGET:.2f}x")
    return found


def markdown(meta: dict, records: list[dict]) -> str:
    lines = [
        "# rnnkit bench: rnnkit's layers against PyTorch's native ones",
        "",
        f"Made by `{meta['command']}` on {meta['date']}.",
        "",
        f"- machine: {meta['machine']}; Python {meta['python']}, torch {meta['torch']}, "
        f"{meta['threads']} threads",
        f"- load average (1 min) before / after: {meta['load_before']:.2f} / "
        f"{meta['load_after']:.2f} (other work on the machine shows here and adds noise)",
        f"- each time is the median of {meta['repeats']} runs after {meta['warmup']} warm-up runs, "
        "rnnkit and native interleaved in one process; ratio = rnnkit / native, below 1 means "
        "rnnkit is faster",
        "- train: forward + backward of the summed outputs; inference: forward under "
        "`torch.no_grad()`; memory: peak CPU allocation of a training step (profiler)",
        "",
    ]
    missed = [(r, m) for r in records if (m := misses(r))]
    lines += [f"## Targets: {len(records) - len(missed)} of {len(records)} grid points meet all",
              "",
              f"Training <= {TRAIN_TARGET_LARGE}x at H >= {LARGE_H} and <= {TRAIN_TARGET_SMALL}x "
              f"below; inference <= {INFERENCE_TARGET}x; memory <= {MEMORY_TARGET}x.", ""]
    if missed:
        lines += ["| case | T | B | H | misses |", "| --- | ---: | ---: | ---: | --- |"]
        lines += [f"| {r['case']} | {r['T']} | {r['B']} | {r['H']} | {'; '.join(m)} |"
                  for r, m in missed]
        lines.append("")
    for case in dict.fromkeys(r["case"] for r in records):
        rows = [r for r in records if r["case"] == case]
        lines += [f"## {case} (against {rows[0]['native']})", "",
                  "| T | B | H | train ms rnnkit | native | ratio | inference ms rnnkit | native "
                  "| ratio | train MB rnnkit | native | ratio |",
                  "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
                  "| ---: |"]
        for r in rows:
            cells = [str(r["T"]), str(r["B"]), str(r["H"])]
            for mode in ("train", "inference"):
                m = r[mode]
                cells += [f"{m['rnnkit_ms']:.2f}", f"{m['native_ms']:.2f}", f"{m['ratio']:.2f}x"]
            m = r.get("train_peak_memory")
            cells += ([f"{m['rnnkit_mb']:.1f}", f"{m['native_mb']:.1f}", f"{m['ratio']:.2f}x"]
                      if m else ["", "", ""])
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)
