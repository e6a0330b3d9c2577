"""Django's tasks framework on jobdeck: a ``django.tasks`` backend, the worker's deck of Django
tasks, and the dashboard inside a Django project's ASGI application, signed in by Django.

    TASKS = {"default": {"BACKEND": "jobdeck.contrib.django.JobDeckBackend",
                         "OPTIONS": {"DATABASE": "sqlite:///jobs.db"}}}

Run the tasks with ``jobdeck worker --app jobdeck.contrib.django.worker:deck`` (with
DJANGO_SETTINGS_MODULE set). Needs Django 6 (``pip install 'jobdeck[django]'``).
"""

from jobdeck.contrib.django.backend import JobDeckBackend, deck_for

__all__ = ["JobDeckBackend", "deck_for"]
