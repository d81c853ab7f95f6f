"""Tasks by name, as configs name them."""

from __future__ import annotations

from rnnkit.errors import ConfigError
from rnnkit.tasks.adding import AddingTask
from rnnkit.tasks.music import MusicTask
from rnnkit.tasks.seq2seq_digits import Seq2SeqTask
from rnnkit.tasks.sst import SSTTask
from rnnkit.tasks.stack_lm import StackLMTask
from rnnkit.tasks.stream import StreamTask
from rnnkit.tasks.tagging import TaggingTask
from rnnkit.tasks.base import Task
from rnnkit.tasks.text_lm import LanguageModelTask
from rnnkit.tasks.sst_tree import SSTTreeTask

TASKS: dict[str, type[Task]] = {
    task.name: task for task in (AddingTask, StreamTask, LanguageModelTask, SSTTask, MusicTask,
                                 TaggingTask, StackLMTask, Seq2SeqTask, SSTTreeTask)}


def task_class(name) -> type[Task]:
    if name not in TASKS:
        raise ConfigError(f"task: expected one of {', '.join(TASKS)}, got {name!r}")
    return TASKS[name]
