"""Schedules whose names hold dots (every ``@deck.periodic`` without ``name=``), slashes, spaces,
quotes or any script: their cards get ids that are valid CSS selectors, their URLs are
percent-encoded, and Run Now, Pause and Resume reach the right schedule."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html import unescape
from urllib.parse import unquote

import pytest
from fastapi.testclient import TestClient

from jobdeck import JobDeck
from jobdeck.web import PERMISSIONS, Principal
from jobdeck.web.pages.schedules import schedule_dom_id, schedule_path
from jobdeck.worker.scheduler import Scheduler

NAMES = [
    "app.tasks.nightly_report",  # declared without name=, below
    "reports/weekly summary",
    'it\'s "quoted" <b>',
    "naïve ☃ 日次レポート",
    "50% off?#frag&x=1",
    "---",
]
# What a CSS id selector (#name) takes without escaping, and an HTML id must start with.
CSS_IDENT = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")


@pytest.mark.parametrize("name", [*NAMES, "", "a" * 500, "\ud800"])
def test_the_id_is_a_css_identifier_and_stable(name: str) -> None:
    dom_id = schedule_dom_id(name)
    assert CSS_IDENT.match(f"card-{dom_id}"), dom_id
    assert dom_id == schedule_dom_id(name)
    assert len(dom_id) <= 51


def test_names_differing_only_in_punctuation_get_different_ids() -> None:
    names = ["app.tasks.report", "app_tasks_report", "app/tasks/report", "app tasks report"]
    ids = {schedule_dom_id(name) for name in names}
    assert len(ids) == len(names)
    assert schedule_dom_id("app.tasks.nightly_report").startswith("app-tasks-nightly_report-")


@pytest.mark.parametrize("name", NAMES)
def test_the_path_is_one_encoded_segment(name: str) -> None:
    path = schedule_path(name)
    segment = path.removeprefix("schedules/")
    assert "/" not in segment and "?" not in segment and "#" not in segment and " " not in segment
    assert unquote(segment) == name


def as_admin(request: object) -> Principal:
    return Principal("tester", "tester@example.com", "admin", frozenset(PERMISSIONS))


@pytest.fixture
def client(db_url: str) -> Iterator[TestClient]:
    deck = JobDeck(db_url)
    for name in NAMES[1:]:
        deck.periodic(name=name, cron="0 3 * * *")(lambda: {"done": True})

    def nightly_report() -> dict[str, bool]:
        return {"done": True}

    nightly_report.__module__ = "app.tasks"  # the default name is module.qualname
    nightly_report.__qualname__ = "nightly_report"
    deck.periodic(cron="0 4 * * *")(nightly_report)
    assert "app.tasks.nightly_report" in deck.schedules
    Scheduler(deck).sync()
    with TestClient(deck.asgi(authorize=as_admin)) as opened:
        page = opened.get("/schedules")  # sets the CSRF cookie for the posts below
        token = re.search(r'"X-CSRF-Token": "([^"]+)"', page.text)
        assert token, page.text[:500]
        opened.headers["X-CSRF-Token"] = token.group(1)
        opened.headers["HX-Request"] = "true"
        yield opened
    deck.close()


def test_every_card_targets_an_element_that_exists_and_its_buttons_work(
    client: TestClient,
) -> None:
    page = client.get("/schedules")
    assert page.status_code == 200
    ids = re.findall(r'\bid="([^"]+)"', page.text)
    assert len(ids) == len(set(ids)), "ids are unique"
    for dom_id in ids:
        assert CSS_IDENT.match(dom_id), dom_id
    targets = re.findall(r'hx-target="#([^"]+)"', page.text)
    assert targets and set(targets) <= set(ids)

    # Each card's buttons post to its own schedule, by URLs taken from the page.
    cards = re.findall(r'<article [^>]*data-schedule="([^"]*)".*?</article>', page.text, re.S)
    assert sorted(unescape(c) for c in cards) == sorted(NAMES)
    for action in ("run", "pause", "resume"):
        for url in re.findall(rf'hx-post="(schedules/[^"]+/{action})"', page.text):
            answer = client.post("/" + unescape(url))
            assert answer.status_code == 200, (url, answer.text[:300])
            name = unquote(unescape(url).removeprefix("schedules/").removesuffix(f"/{action}"))
            assert f'id="status-{schedule_dom_id(name)}"' in answer.text
            if action == "pause":
                assert "Paused</span>" in answer.text
    for url in re.findall(r'hx-get="(schedules/[^"]+/runs)"', page.text):
        assert client.get("/" + unescape(url)).status_code == 200


def test_the_api_takes_the_same_names_percent_encoded(client: TestClient) -> None:
    del client.headers["X-CSRF-Token"]
    for name in NAMES:
        path = "/api/" + schedule_path(name)
        detail = client.get(path)
        assert detail.status_code == 200, (name, detail.text[:300])
        assert detail.json()["schedule"]["name"] == name
        paused = client.post(f"{path}/pause", headers={"X-CSRF-Token": csrf(client)})
        assert paused.status_code == 200 and paused.json()["paused"] is True, paused.text[:300]


def csrf(client: TestClient) -> str:
    return str(client.cookies.get("jobdeck_csrf"))
