"""Alerts: the events and their delivery (`alerter`), the rules beyond staleness checked by
the scheduler loop (`rules`), and the channels that carry them (`channels`)."""

from jobdeck.alerts.alerter import (
    EXHAUSTED,
    FAILURE_RATE,
    FLEET_LOW,
    NEW_ERROR_GROUP,
    QUEUE_WAIT,
    RECOVERED,
    STALE,
    Alerter,
    AlertEvent,
)

__all__ = [
    "EXHAUSTED",
    "FAILURE_RATE",
    "FLEET_LOW",
    "NEW_ERROR_GROUP",
    "QUEUE_WAIT",
    "RECOVERED",
    "STALE",
    "AlertEvent",
    "Alerter",
]
