"""Limits in the dashboard: the drawer says why a job waits on a limit, and the Queues page lists
the deck's limits with how full each is now; a job under no limit shows neither."""

from __future__ import annotations

from jobdeck.control.limits import deck_limits
from jobdeck.store.base import ClaimRequest
from tests.web.conftest import Site


def declare(site: Site) -> None:
    site.deck.task(name="mail_send", queue="mail", concurrency=1)(print)
    site.deck.task(name="call_api", queue="api", rate_limit="1/m")(print)


def claim(site: Site, queue: str) -> None:
    limits = deck_limits(site.deck)
    [_] = site.deck.store.claim_jobs(ClaimRequest("w1", [queue], 5, 30.0, limits=limits))


def test_the_drawer_says_which_concurrency_limit_a_job_waits_on(site: Site) -> None:
    declare(site)
    first, second = site.deck.tasks["mail_send"].enqueue_many([{}, {}])
    plain = site.deck.tasks["send_email"].enqueue(to="a@example.com")
    client = site.login("partner@example.com")
    assert "waiting-because" not in client.get(f"/jobs/{second.id}/drawer").text
    claim(site, "mail")
    drawer = client.get(f"/jobs/{second.id}/drawer").text
    assert "waiting: 1/1 of task mail_send running" in drawer
    assert "waiting-because" not in client.get(f"/jobs/{first.id}/drawer").text  # running
    assert "waiting-because" not in client.get(f"/jobs/{plain.id}/drawer").text
    queues = client.get("/queues").text
    assert (
        "task mail_send" in queues
        and "1/1 running" in queues
        and 'class="limit-row full"' in queues
    )


def test_the_drawer_and_queues_page_show_when_a_rate_slot_opens(site: Site) -> None:
    declare(site)
    _, held = site.deck.tasks["call_api"].enqueue_many([{}, {}])
    claim(site, "api")
    client = site.login("partner@example.com")
    drawer = client.get(f"/jobs/{held.id}/drawer").text
    assert "rate limit 1/m of task call_api: next start at" in drawer
    queues = client.get("/queues").text
    assert "1/m" in queues and "next start at" in queues
    limits = client.get("/api/queues").json()["limits"]
    [rate] = [limit for limit in limits if limit["kind"] == "rate"]
    assert (rate["what"], rate["kind"], rate["limit"]) == ("task call_api", "rate", "1/m")
    assert rate["next_free_at"] is not None
    site.clock.advance(seconds=61)
    assert "waiting-because" not in client.get(f"/jobs/{held.id}/drawer").text
