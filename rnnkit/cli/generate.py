"""`rnnkit generate`: text sampled from a trained language model (task language_model, stream
or stack_lm), printed after its prime.

    rnnkit generate runs/char-lm --prime "ROMEO:" --length 300 --temperature 0.8 --seed 1
    rnnkit generate runs/char-lm --greedy            the most likely token at every step

Without --prime the text starts as a new line would. Prime tokens outside the vocabulary read as
its unknown token (a note on stderr says which), as the validation text does; the generated
stream task has none, so they are an error there. Without --seed every call draws a new sample.
"""

from __future__ import annotations

import argparse
import sys

from rnnkit.cli.checkpoints import RUN_OR_CHECKPOINT
from rnnkit.errors import CheckpointError, DataError


def add_parser(commands) -> None:
    parser = commands.add_parser("generate", help="sample text from a trained language model",
                                 description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint", metavar="CHECKPOINT", help=RUN_OR_CHECKPOINT)
    parser.add_argument("--prime", default="", metavar="TEXT",
                        help="the text the sample continues (default: none)")
    parser.add_argument("--length", type=_count, default=500, metavar="N",
                        help="tokens to generate: characters or words (default: 500)")
    parser.add_argument("--temperature", type=_positive_float, default=1.0, metavar="T",
                        help="divides the logits before sampling; lower is more conservative "
                             "(default: 1.0)")
    parser.add_argument("--greedy", action="store_true",
                        help="take the most likely token at every step instead of sampling")
    parser.add_argument("--seed", type=int, metavar="S",
                        help="seed of the sampling, for a repeatable sample")
    parser.set_defaults(run=run)


def _count(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text!r}")
    return int(text)


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r}")
    return value


def run(args) -> int:
    import torch  # here, not at the top: `--help` needs no torch

    from rnnkit.models.language_model import generate
    from rnnkit.tasks.stream import TokenTask
    from rnnkit.training.evaluate import load_trained

    trained = load_trained(args.checkpoint)
    task = trained.task
    if not isinstance(task, TokenTask):
        raise CheckpointError(f"{str(trained.path)!r}: a model of the {task.name} task; generate "
                              f"needs a language model (task language_model, stream or "
                              f"stack_lm)")
    prime = task.tokens_of(args.prime)
    unknown = [token for token in dict.fromkeys(prime) if token not in task.vocab]
    if unknown and task.vocab.unk is None:
        raise DataError(f"--prime: expected tokens of the vocabulary, got {unknown[:5]} outside "
                        f"it")
    if unknown:
        print(f"rnnkit: note: --prime: {unknown[:5]} not in the vocabulary, read as "
              f"{task.vocab.unk!r}", file=sys.stderr)
    generator = torch.Generator()
    if args.seed is None:
        generator.seed()
    else:
        generator.manual_seed(args.seed)
    sample = generate(trained.model, task.vocab, prime or [task.start_token], args.length,
                      args.temperature, args.greedy, generator)
    print(task.join(prime + sample))
    return 0
