"""The Django app that adds ``manage.py jobdeck_worker`` (add "jobdeck.contrib.django" to
INSTALLED_APPS); the backend itself works without it."""

from __future__ import annotations

from django.apps import AppConfig  # type: ignore[import-not-found]


class JobDeckConfig(AppConfig):  # type: ignore[misc]
    name = "jobdeck.contrib.django"
    label = "jobdeck"
    verbose_name = "jobdeck"
