"""The training config: a typed schema of nested frozen dataclasses, read from TOML or YAML,
every key overridable with `--set section.key=value`.

    task = "adding"                 # required: which task (rnnkit.models.TASKS)
    quiet = false                   # true: plain log lines instead of a progress bar
    [model]    ModelConfig          (rnnkit/models/network.py): cell, spec, sizes, dropout
    [data]     the task's own Data  (e.g. AddingData): sizes, paths, seeds
    [optim]    OptimConfig          [schedule] ScheduleConfig
    [train]    TrainConfig          [run]      RunConfig

Errors name the dotted key: an unknown key lists the valid ones, a wrong type says what was
expected and what came, a missing required value names its key.
"""

from __future__ import annotations

import codecs
import dataclasses
import json
import tomllib
import typing
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from rnnkit._check import describe
from rnnkit.data.errors import DataFormatError
from rnnkit.data.files import read_text
from rnnkit.errors import ConfigError
from rnnkit.models.network import ModelConfig
from rnnkit.tasks.registry import TASKS, task_class

OPTIMIZERS = ("sgd", "adam", "adamw")
SCHEDULES = ("constant", "step", "plateau")
ON_NAN = ("stop", "rollback")
DEVICES = ("auto", "cpu", "cuda")


@dataclass(frozen=True)
class OptimConfig:
    """name: "sgd" (with `momentum`, `nesterov`), "adam" or "adamw". weight_decay: L2 added to
    the gradient for sgd and adam, decoupled for adamw (Loshchilov & Hutter 2019). fused (adam,
    adamw): torch's one-pass kernel for the update, the same algorithm to rounding; on the CPU
    it is about 5x faster on a 16k x 300 embedding, where the per-tensor update took half of an
    SST training step. Off by default, so that a result measured without it repeats exactly."""

    name: str = field(default="adam", metadata={"choices": OPTIMIZERS})
    lr: float = field(default=0.01, metadata={"above": 0.0})
    momentum: float = field(default=0.0, metadata={"min": 0.0})
    nesterov: bool = False
    weight_decay: float = field(default=0.0, metadata={"min": 0.0})
    fused: bool = False


@dataclass(frozen=True)
class ScheduleConfig:
    """The learning rate: a linear warm-up over `warmup_steps`, then
    "constant"; "step": multiplied by `factor` at the end of every `every`-th epoch from epoch
    `start_epoch` on (Zaremba et al. 2014: start 4 or 6, factor 0.5 or 1/1.15); "plateau":
    multiplied by `factor` when the monitored validation metric has not improved for
    `patience` evaluations in epochs from `start_epoch` on (so that a curriculum can run
    first), and with `restore_best` the model and optimiser go back to best.pt
    at each such decay (as Joulin & Mikolov's code does: a run that wandered off a good point
    restarts from it, slower). Never below `min_lr`."""

    kind: str = field(default="constant", metadata={"choices": SCHEDULES})
    warmup_steps: int = field(default=0, metadata={"min": 0})
    factor: float = field(default=0.5, metadata={"above": 0.0})
    start_epoch: int = field(default=1, metadata={"min": 1})
    every: int = field(default=1, metadata={"min": 1})
    patience: int = field(default=1, metadata={"min": 1})
    min_lr: float = field(default=0.0, metadata={"min": 0.0})
    restore_best: bool = False


@dataclass(frozen=True)
class TrainConfig:
    """epochs, and max_steps or max_minutes (0: no limit) that end a run earlier (max_minutes
    counts the wall time of training and validation, over resumes too). clip_norm: the gradient's
    global norm is scaled down to it (0: off); clip_value: each entry clipped to [-v, v] (0:
    off). k1, k2: truncated BPTT for stream tasks (Williams & Peng 1990): an update every k1
    steps that backpropagates k2 steps (0: k2 = k1). tbptt: the same for the training batches
    of a task whose batches are streams (stack_lm): each batch is cut into k1/k2 windows, an
    update per window, the state carried from one window of a batch to the next (false: one
    update per batch, backpropagated through all of it). patience: early stopping after that many
    evaluations without improvement of `monitor` (0: off; "" monitors the task's metric).
    eval_every: evaluate every so many steps (0: at each epoch's end). on_nan: "stop", or
    "rollback" to the last checkpoint with the learning rate times `nan_lr_factor`.
    log_every: steps between train records in the metrics log. device: "auto" (a GPU when
    there is one), "cpu" or "cuda"; the same config gives the same numbers on the CPU.
    threads: PyTorch's CPU threads in this process (0: its default, one per core)."""

    epochs: int = field(default=3, metadata={"min": 1})
    max_steps: int = field(default=0, metadata={"min": 0})
    max_minutes: float = field(default=0.0, metadata={"min": 0.0})
    batch_size: int = field(default=64, metadata={"min": 1})
    clip_norm: float = field(default=1.0, metadata={"min": 0.0})
    clip_value: float = field(default=0.0, metadata={"min": 0.0})
    k1: int = field(default=35, metadata={"min": 1})
    k2: int = field(default=0, metadata={"min": 0})
    tbptt: bool = False
    patience: int = field(default=0, metadata={"min": 0})
    monitor: str = ""
    eval_every: int = field(default=0, metadata={"min": 0})
    seed: int = 0
    on_nan: str = field(default="stop", metadata={"choices": ON_NAN})
    nan_lr_factor: float = field(default=0.5, metadata={"above": 0.0})
    log_every: int = field(default=1, metadata={"min": 1})
    device: str = field(default="auto", metadata={"choices": DEVICES})
    threads: int = field(default=0, metadata={"min": 0})


@dataclass(frozen=True)
class RunConfig:
    """folder: where the run lives ("": runs/<task>-<n>, the first free n). checkpoint_every:
    steps between checkpoints (0: at each evaluation). keep_best: also keep best.pt, the
    checkpoint with the best validation metric. plots: PNG plots at the end."""

    folder: str = ""
    checkpoint_every: int = field(default=0, metadata={"min": 0})
    keep_best: bool = True
    plots: bool = True


@dataclass(frozen=True)
class Config:
    """A whole run's config. Build it with `load` or `from_dict`, which fill `data` with the
    task's own Data dataclass."""

    task: str
    model: ModelConfig = ModelConfig()
    data: typing.Any = None  # the task's Data dataclass, filled in by `from_dict`
    optim: OptimConfig = OptimConfig()
    schedule: ScheduleConfig = ScheduleConfig()
    train: TrainConfig = TrainConfig()
    run: RunConfig = RunConfig()
    quiet: bool = False

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


# The built-in demo: `rnnkit train` with no config. configs/adding.toml is the same, commented.
DEMO = {"task": "adding",
        "model": {"cell": "lstm", "hidden_size": 32},
        "data": {"length": 30, "train_size": 4096},
        "optim": {"name": "adam", "lr": 0.01},
        "schedule": {"kind": "step", "start_epoch": 8, "factor": 0.5},
        # One thread: for a model this small, more threads cost more in synchronisation than
        # they gain, and slow down many times over when other processes share the cores.
        "train": {"epochs": 10, "batch_size": 64, "clip_norm": 1.0, "threads": 1}}


# --- reading -----------------------------------------------------------------------------------
def read_file(path: str | Path) -> dict:
    """A TOML (.toml) or YAML (.yaml, .yml) file -> a dict of raw values."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config: no such file: {str(path)!r}")
    try:
        text = read_text(path)
    except DataFormatError as error:
        raise ConfigError(f"config: {error}; save the config as UTF-8") from None
    try:
        if path.suffix in (".yaml", ".yml"):
            raw = yaml.safe_load(text) or {}
        elif path.suffix == ".toml":
            raw = tomllib.loads(text)
        else:
            raise ConfigError(f"config: expected a .toml, .yaml or .yml file, got {str(path)!r}")
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as error:
        raise ConfigError(f"config: {str(path)!r} is not valid "
                          f"{'YAML' if path.suffix != '.toml' else 'TOML'}: {error}") from error
    if not isinstance(raw, dict):
        raise ConfigError(f"config: expected a table of keys in {str(path)!r}, "
                          f"got {describe(raw)}")
    return raw


def apply_overrides(raw: dict, overrides: list[str]) -> dict:
    """`section.key=value` strings applied to a copy of `raw`. The value is read as TOML (5,
    0.1, true, "text", [1, 2]); what is not TOML is taken as a bare string (cell=gru)."""
    raw = json.loads(json.dumps(raw))  # a deep copy of plain data
    for item in overrides:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key or any(not part for part in key.split(".")):
            raise ConfigError(f"--set: expected key=value with a dotted key "
                              f"(e.g. train.epochs=5), got {item!r}")
        try:
            value = tomllib.loads(f"value = {text.strip()}")["value"]
        except tomllib.TOMLDecodeError:
            value = text.strip()
        table = raw
        *parents, last = key.split(".")
        for depth, part in enumerate(parents):
            table = table.setdefault(part, {})
            if not isinstance(table, dict):
                raise ConfigError(f"--set {key}: {'.'.join(parents[:depth + 1])} is a value, "
                                  f"not a section")
        table[last] = value
    return raw


def load(path: str | Path | None = None, overrides: list[str] = ()) -> Config:
    """The config of a file (or the built-in demo when `path` is None) with `overrides`."""
    raw = DEMO if path is None else read_file(path)
    return from_dict(apply_overrides(raw, list(overrides)))


def from_dict(raw: dict) -> Config:
    """Raw values (from a file, overrides, or a checkpoint) -> a checked Config."""
    if "task" not in raw:
        raise ConfigError(f"task: required, expected one of {', '.join(TASKS)}; none was given")
    data_type = task_class(raw["task"]).Data
    return _build(Config, raw, "", {"data": data_type})


def _build(cls, raw, prefix: str, replace: dict | None = None):
    """A dataclass `cls` from the dict `raw`, checking keys, types and ranges; `replace` swaps
    the type of some fields (the task's data section)."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{prefix.rstrip('.')}: expected a table of keys, got {describe(raw)}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(raw) - set(fields))
    if unknown:
        raise ConfigError(f"{prefix}{unknown[0]}: unknown key; expected one of "
                          f"{', '.join(prefix + name for name in fields)}")
    values = {}
    for name, f in fields.items():
        key = prefix + name
        kind = (replace or {}).get(name, hints[name])
        if dataclasses.is_dataclass(kind):
            values[name] = _build(kind, raw.get(name, {}), key + ".")
        elif name in raw:
            values[name] = _check_value(key, raw[name], kind, f.metadata)
        elif f.default is dataclasses.MISSING:
            raise ConfigError(f"{key}: required, expected {_type_name(kind)}; none was given")
    return cls(**values)


def _type_name(kind) -> str:
    return {int: "an integer", float: "a number", bool: "true or false", str: "a string"}[kind]


def _check_value(key: str, value, kind, metadata):
    ok = (isinstance(value, bool) if kind is bool else
          isinstance(value, int) and not isinstance(value, bool) if kind is int else
          isinstance(value, (int, float)) and not isinstance(value, bool) if kind is float else
          isinstance(value, str))
    if not ok:
        raise ConfigError(f"{key}: expected {_type_name(kind)}, got {describe(value)}")
    value = float(value) if kind is float else value
    if "choices" in metadata and value not in metadata["choices"]:
        raise ConfigError(f"{key}: expected one of {', '.join(metadata['choices'])}, "
                          f"got {value!r}")
    if "min" in metadata and value < metadata["min"]:
        raise ConfigError(f"{key}: expected a value >= {metadata['min']}, got {value}")
    if "above" in metadata and value <= metadata["above"]:
        raise ConfigError(f"{key}: expected a value > {metadata['above']}, got {value}")
    if "below" in metadata and value >= metadata["below"]:
        raise ConfigError(f"{key}: expected a value < {metadata['below']}, got {value}")
    if metadata.get("encoding"):
        try:
            codecs.lookup(value)
        except LookupError:
            raise ConfigError(f"{key}: expected a text encoding Python knows (utf-8, latin-1, "
                              f"cp1252, ...), got {value!r}") from None
    return value


# --- writing -----------------------------------------------------------------------------------
def to_toml(config: Config) -> str:
    """The resolved config as TOML: top-level values, then one table per section."""
    data = config.to_dict()
    lines = [f"{key} = {_toml_value(value)}" for key, value in data.items()
             if not isinstance(value, dict)]
    for section, table in data.items():
        if isinstance(table, dict):
            lines += ["", f"[{section}]"]
            lines += [f"{key} = {_toml_value(value)}" for key, value in table.items()]
    return "\n".join(lines) + "\n"


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)  # JSON's escapes are TOML's basic-string escapes
    return repr(value)
