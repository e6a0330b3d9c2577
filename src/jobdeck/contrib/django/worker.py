"""The deck ``jobdeck worker`` runs for a Django project: Django set up from
DJANGO_SETTINGS_MODULE, and every Django task of one ``TASKS`` backend registered on it.

    DJANGO_SETTINGS_MODULE=mysite.settings jobdeck worker --app jobdeck.contrib.django.worker:deck

The backend alias is ``default``, or $JOBDECK_DJANGO_BACKEND. Tasks are found in each installed
app's ``tasks`` module and in the backend's OPTIONS["TASK_MODULES"].
"""

from __future__ import annotations

import os

import django  # type: ignore[import-not-found]
from jobdeck.errors import ConfigError

if not os.environ.get("DJANGO_SETTINGS_MODULE"):
    raise ConfigError(
        "jobdeck.contrib.django.worker needs DJANGO_SETTINGS_MODULE (e.g. mysite.settings)"
    )
django.setup()

from jobdeck.contrib.django.backend import backend_options, deck_for  # noqa: E402
from jobdeck.contrib.django.registry import discover_tasks, jobdeck_task  # noqa: E402

alias = os.environ.get("JOBDECK_DJANGO_BACKEND", "default")
deck = deck_for(alias)
for _task in discover_tasks(alias, backend_options(alias).get("TASK_MODULES", ())):
    jobdeck_task(deck, _task)
