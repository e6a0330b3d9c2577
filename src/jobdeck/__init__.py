"""jobdeck: durable background jobs, a cron scheduler and a monitoring dashboard.

>>> from jobdeck import JobDeck
>>> deck = JobDeck("sqlite:///jobs.db")
"""

from jobdeck._version import __version__
from jobdeck.app import JobDeck
from jobdeck.clock import Clock, ManualClock, SystemClock
from jobdeck.errors import (
    ArgumentError,
    ArgumentsError,
    ConfigError,
    DeliveryError,
    ErrorGroupNotFound,
    InvalidPayload,
    InvalidTransition,
    JobCancelled,
    JobDeckError,
    JobNotFound,
    MissingExtra,
    PermanentFailure,
    SchemaError,
    SerializationError,
    StoreUnavailable,
    UnknownParentJob,
    UnknownSchedule,
    UnknownTask,
    UnknownWorker,
)
from jobdeck.running import CurrentJob, current_job
from jobdeck.settings import Settings
from jobdeck.states import JobState, Trigger
from jobdeck.tasks import BoundTask, JobHandle, Task

__all__ = [
    "ArgumentError",
    "ArgumentsError",
    "BoundTask",
    "Clock",
    "ConfigError",
    "CurrentJob",
    "DeliveryError",
    "ErrorGroupNotFound",
    "InvalidPayload",
    "InvalidTransition",
    "JobCancelled",
    "JobDeck",
    "JobDeckError",
    "JobHandle",
    "JobNotFound",
    "JobState",
    "ManualClock",
    "MissingExtra",
    "PermanentFailure",
    "SchemaError",
    "SerializationError",
    "Settings",
    "StoreUnavailable",
    "SystemClock",
    "Task",
    "Trigger",
    "UnknownParentJob",
    "UnknownSchedule",
    "UnknownTask",
    "UnknownWorker",
    "__version__",
    "current_job",
]
