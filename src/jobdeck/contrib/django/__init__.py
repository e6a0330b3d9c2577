"""Django's tasks framework on jobdeck: a ``django.tasks`` backend, the worker's deck of Django
tasks, and the dashboard inside a Django project's ASGI application, signed in by Django.

    TASKS = {"default": {"BACKEND": "jobdeck.contrib.django.JobDeckBackend",
                         "OPTIONS": {"DATABASE": "sqlite:///jobs.db"}}}

Run the tasks with ``jobdeck worker --app jobdeck.contrib.django.worker:deck`` (with
DJANGO_SETTINGS_MODULE set). Needs Django 6 (``pip install 'jobdeck[django]'``).
"""

import importlib.util

from jobdeck.errors import MissingExtra

# jobdeck.extras keeps the table for the core's extras; this contrib checks its own, so a
# project without Django gets the one-line fix instead of an ImportError from deep inside.
if importlib.util.find_spec("django") is None:
    raise MissingExtra(
        "jobdeck.contrib.django needs jobdeck's 'django' extra (django not installed; Django 6 "
        "needs Python 3.12 or newer): pip install 'jobdeck[django]'",
        extra="django",
    )

from jobdeck.contrib.django.backend import JobDeckBackend, deck_for

__all__ = ["JobDeckBackend", "deck_for"]
