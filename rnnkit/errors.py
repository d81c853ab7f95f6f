"""rnnkit's own error types: what a user got wrong (a config, a data file, a checkpoint) or what
stopped a run. The command line prints them as `rnnkit: error: ...` without a traceback; any
other exception is a bug and keeps its traceback.

They subclass ValueError/RuntimeError, so code that catches those keeps working."""


class RnnkitError(Exception):
    """Base class of the errors that the command line reports as user errors."""


class ConfigError(RnnkitError, ValueError):
    """A config key that is unknown, of the wrong type, missing or out of range; the message
    names the dotted key, what was expected and what came."""


class DataError(RnnkitError, ValueError):
    """Data that cannot be read: the message names the path."""


class CheckpointError(RnnkitError, ValueError):
    """A checkpoint that is missing, corrupt, foreign or of an unknown format version."""


class TrainingError(RnnkitError, RuntimeError):
    """A run that cannot go on, e.g. a loss that became NaN; the message names the step."""


class BuildError(RnnkitError, RuntimeError):
    """The fused engine's C++ extension could not be compiled (`rnnkit build`)."""


class StorageError(RnnkitError, OSError):
    """A file that rnnkit must write could not be written (the disk is full, no permission, a
    read-only file system); the message names the file and what to do. An OSError still, for
    code that catches those."""
