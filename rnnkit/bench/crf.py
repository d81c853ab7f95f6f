"""`python -m rnnkit.bench.crf`: rnnkit.CRF against pytorch-crf (`torchcrf.CRF`) on the same
batches, in one process, runs interleaved.

Both CRFs hold the same parameters (pytorch-crf's state_dict is rnnkit's). Before timing, each
batch is checked: per-sequence log-likelihoods and the gradients of the emissions must agree
(allclose) and the decoded paths must be equal; the bench stops if they do not. Then the medians
of (a) training: the summed log-likelihood forward + backward, and (b) decoding under no_grad.
The shapes are those of tagging (CoNLL-like): K tags (9: BIO over 4 entity types; 17: IOBES),
B sentences padded to T steps, lengths drawn in [1, T] with one of them T, float32, time-major.

pytorch-crf is no dependency of rnnkit: `pip install pytorch-crf` (or the `bench` extra).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import NamedTuple

import torch

import rnnkit
from rnnkit.bench import parse_ints, run_meta
from rnnkit.bench.timing import compare

# float32 log-likelihoods of T = 50 steps are sums of ~100 terms of size ~10: the two libraries
# add them in different orders, which moves the result by a few 1e-5
RTOL, ATOL = 1e-5, 1e-4


def pytorch_crf():
    """The torchcrf module, imported only when the bench runs."""
    try:
        import torchcrf
    except ImportError as error:
        raise ImportError("the CRF bench compares against pytorch-crf, which is not installed: "
                          "pip install pytorch-crf") from error
    return torchcrf


class Batch(NamedTuple):
    """emissions (T, B, K) float32 leaf with requires_grad; tags (T, B) int64; mask (T, B) bool,
    each column a prefix of `lengths[b]` steps."""
    emissions: torch.Tensor
    tags: torch.Tensor
    mask: torch.Tensor
    lengths: torch.Tensor


def make_batch(K: int, B: int, T: int, seed: int = 0) -> Batch:
    gen = torch.Generator().manual_seed(seed)
    lengths = torch.randint(1, T + 1, (B,), generator=gen)
    lengths[0] = T                       # the batch is padded to its longest sentence
    mask = torch.arange(T).unsqueeze(1) < lengths                             # (T, B)
    emissions = torch.randn(T, B, K, generator=gen).requires_grad_()
    tags = torch.randint(0, K, (T, B), generator=gen)
    return Batch(emissions, tags, mask, lengths)


def make_pair(K: int, seed: int = 0) -> tuple[torch.nn.Module, torch.nn.Module]:
    """rnnkit.CRF and torchcrf.CRF of K tags with the same (random) parameters."""
    torch.manual_seed(seed)
    ours = rnnkit.CRF(K)
    native = pytorch_crf().CRF(K)
    native.load_state_dict(ours.state_dict())
    return ours, native


def train_step(crf: torch.nn.Module, batch: Batch):
    """Forward of the summed log-likelihood and backward into the parameters and emissions."""
    def run():
        crf.zero_grad(set_to_none=True)
        batch.emissions.grad = None
        (-crf(batch.emissions, batch.tags, batch.mask)).backward()
    return run


def decode_step(crf: torch.nn.Module, batch: Batch):
    # no_grad for both: pytorch-crf's decode would otherwise record a graph through its
    # parameters, which nobody decoding would pay for
    def run():
        with torch.no_grad():
            return crf.decode(batch.emissions, batch.mask)
    return run


def agreement(ours: torch.nn.Module, native: torch.nn.Module, batch: Batch) -> dict:
    """The largest differences of the per-sequence log-likelihoods and of the emissions'
    gradients, and whether the decoded paths are equal. Raises AssertionError if they differ."""
    llh, grads = [], []
    for crf in (ours, native):
        batch.emissions.grad = None
        value = crf(batch.emissions, batch.tags, batch.mask, reduction="none")     # (B,)
        value.sum().backward()
        llh.append(value.detach())
        grads.append(batch.emissions.grad)
    paths_equal = decode_step(ours, batch)() == decode_step(native, batch)()
    if not (torch.allclose(*llh, rtol=RTOL, atol=ATOL)
            and torch.allclose(*grads, rtol=RTOL, atol=ATOL) and paths_equal):
        raise AssertionError(f"rnnkit and pytorch-crf disagree on {tuple(batch.emissions.shape)}"
                             f": log-likelihoods {llh[0].tolist()} vs {llh[1].tolist()}, "
                             f"paths equal: {paths_equal}")
    return {"llh_max_abs_diff": (llh[0] - llh[1]).abs().max().item(),
            "grad_max_abs_diff": (grads[0] - grads[1]).abs().max().item(),
            "paths_equal": paths_equal}


def measure(K: int, B: int, T: int, *, repeats: int, warmup: int) -> dict:
    """One record: the agreement check, then training and decoding medians and ratios."""
    ours, native = make_pair(K)
    batch = make_batch(K, B, T)
    record = {"K": K, "B": B, "T": T, "mean_length": batch.lengths.float().mean().item(),
              **agreement(ours, native, batch)}
    for mode, step in (("train", train_step), ("decode", decode_step)):
        record[mode] = compare(step(ours, batch), step(native, batch), warmup=warmup,
                               repeats=repeats)
    return record


HEADER = ("| K | B | T | mean length | train ms rnnkit | pytorch-crf | ratio "
          "| decode ms rnnkit | pytorch-crf | ratio |\n"
          "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")


def format_row(r: dict) -> str:
    """A Markdown row, so that the printed table goes into BENCHMARKS.md as it is."""
    cells = [str(r["K"]), str(r["B"]), str(r["T"]), f"{r['mean_length']:.1f}"]
    for mode in ("train", "decode"):
        m = r[mode]
        cells += [f"{m['rnnkit_ms']:.2f}", f"{m['native_ms']:.2f}", f"{m['ratio']:.2f}x"]
    return "| " + " | ".join(cells) + " |"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rnnkit.bench.crf", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--K", type=parse_ints, default=[9, 17], help="numbers of tags")
    parser.add_argument("--B", type=parse_ints, default=[10, 32], help="batch sizes")
    parser.add_argument("--T", type=parse_ints, default=[14, 50], help="padded lengths")
    parser.add_argument("--repeats", type=int, default=30, help="timed runs (default 30)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed runs first (default 3)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch's intra-op threads (default: torch's choice)")
    parser.add_argument("--json", metavar="PATH", help="write the records as JSON")
    args = parser.parse_args(argv)
    try:
        version = pytorch_crf().__version__
    except ImportError as error:
        print(f"python -m rnnkit.bench.crf: {error}", file=sys.stderr)
        return 2
    if args.threads:
        torch.set_num_threads(args.threads)
    command = " ".join(["python -m rnnkit.bench.crf", *(sys.argv[1:] if argv is None else argv)])
    meta = {**run_meta(command, repeats=args.repeats, warmup=args.warmup),
            "native": f"pytorch-crf {version}"}
    print(f"rnnkit.CRF vs pytorch-crf {version}: torch {meta['torch']}, {meta['threads']} "
          f"threads, median of {args.repeats} interleaved runs; ratio = rnnkit / pytorch-crf "
          "(< 1: rnnkit faster); log-likelihoods, gradients and paths checked equal first")
    print(HEADER, flush=True)
    records = []
    for K in args.K:
        for B in args.B:
            for T in args.T:
                records.append(measure(K, B, T, repeats=args.repeats, warmup=args.warmup))
                print(format_row(records[-1]), flush=True)
    meta["load_after"] = os.getloadavg()[0]
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"meta": meta, "records": records}, f, indent=1)
        print(f"wrote {len(records)} records to {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
