"""Tasks by name, as configs name them."""

from __future__ import annotations

from rnnkit.errors import ConfigError
from rnnkit.models.adding import AddingTask
from rnnkit.models.music import MusicTask
from rnnkit.models.seq2seq_digits import Seq2SeqTask
from rnnkit.models.sst import SSTTask
from rnnkit.models.stack_lm import StackLMTask
from rnnkit.models.stream import StreamTask
from rnnkit.models.tagging import TaggingTask
from rnnkit.models.task import Task
from rnnkit.models.text_lm import LanguageModelTask
from rnnkit.models.tree_classifier import SSTTreeTask

TASKS: dict[str, type[Task]] = {
    task.name: task for task in (AddingTask, StreamTask, LanguageModelTask, SSTTask, MusicTask,
                                 TaggingTask, StackLMTask, Seq2SeqTask, SSTTreeTask)}


def task_class(name) -> type[Task]:
    if name not in TASKS:
        raise ConfigError(f"task: expected one of {', '.join(TASKS)}, got {name!r}")
    return TASKS[name]
