"""The exceptions jobdeck raises for user-facing problems, each with a one-line message."""

from __future__ import annotations


class JobDeckError(Exception):
    """Base class of every error jobdeck raises on purpose."""


class ConfigError(JobDeckError, ValueError):
    """A setting, task option, schedule or URL is invalid."""


class SerializationError(JobDeckError, TypeError):
    """Job arguments or a result cannot be stored as JSON."""


class InvalidPayload(SerializationError, ValueError):
    """Job arguments, labels, names or a result are past the payload limits (size, nesting
    depth, length, count) or hold text no store can keep (a NUL character, a lone surrogate);
    the message names the field and the limit, and nothing was written."""


class StoreUnavailable(JobDeckError):
    """The database cannot be reached (wrong URL, server down, connection lost)."""


class SchemaError(JobDeckError):
    """The database schema is missing, older or newer than this jobdeck expects."""


class PermanentFailure(JobDeckError):
    """Raise from a task to fail its job now, whatever attempts it has left: retrying cannot
    help (a corrupt upload, a record that no longer exists)."""


class JobCancelled(JobDeckError):
    """Raised by ``jobdeck.current_job().check_cancelled()`` once an operator cancelled the
    running job: let it propagate, and the attempt ends cancelled (never retried)."""


class ArgumentsError(JobDeckError, TypeError):
    """Enqueued arguments do not fit the task's function signature."""


class ArgumentError(ArgumentsError):
    """One argument (or job option) is missing or not of its type; ``field`` names it, for a
    form to mark."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field


class UnknownTask(JobDeckError, LookupError):
    """A job names a task that is not registered in this process."""


class UnknownSchedule(JobDeckError, LookupError):
    """No schedule has the given name."""


class UnknownWorker(JobDeckError, LookupError):
    """No running worker has the given id."""


class JobNotFound(JobDeckError, LookupError):
    """No job has the given id."""


class UnknownParentJob(JobDeckError, LookupError):
    """A job was enqueued ``after=`` a job id that does not exist; nothing was inserted."""


class ErrorGroupNotFound(JobDeckError, LookupError):
    """No error group has the given fingerprint."""


class InvalidTransition(JobDeckError):
    """An operator action does not apply to the job's current state."""


class MissingExtra(JobDeckError, ImportError):
    """A part of jobdeck is used whose optional dependencies are not installed; the message
    names the ``pip install 'jobdeck[extra]'`` command that adds them."""

    def __init__(self, message: str, extra: str) -> None:
        super().__init__(message)
        self.extra = extra


class DeliveryError(JobDeckError):
    """The mail server or webhook endpoint could not be reached or refused the message."""
