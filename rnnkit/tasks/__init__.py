"""Tasks: what the trainer trains, one module each, reading data -> batches -> loss -> metrics
-> predict (`base.Task` is the contract); `registry.TASKS` names them for configs. The
modules they train are in `rnnkit/models/`, the generated data in `rnnkit/data/`."""

from rnnkit.tasks.base import Batch, Task
from rnnkit.tasks.registry import TASKS, task_class

__all__ = ["Batch", "Task", "TASKS", "task_class"]
