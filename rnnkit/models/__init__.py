"""Models: task heads over the recurrent layers, and the tasks that train them (data, loss,
metrics, prediction). `registry.TASKS` names them for configs."""

from rnnkit.models.network import CELLS, ModelConfig, build_network
from rnnkit.models.registry import TASKS, task_class
from rnnkit.models.task import Batch, Task

__all__ = ["CELLS", "ModelConfig", "build_network", "TASKS", "task_class", "Batch", "Task"]
