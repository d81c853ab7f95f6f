"""Models: task heads over the recurrent layers, and the tasks that train them (data, loss,
metrics, prediction); `registry.TASKS` names them for configs. Also seq2seq with attention and
the generated tasks it and the stack RNN are tried on."""

from rnnkit.models.attention import AdditiveAttention
from rnnkit.models.network import CELLS, ModelConfig, build_network
from rnnkit.models.registry import TASKS, task_class
from rnnkit.models.seq2seq import Seq2Seq
from rnnkit.models.task import Batch, Task

__all__ = ["AdditiveAttention", "CELLS", "ModelConfig", "build_network", "Seq2Seq", "TASKS",
           "task_class", "Batch", "Task"]
