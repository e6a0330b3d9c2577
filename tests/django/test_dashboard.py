"""The dashboard inside the Django project's ASGI application, signed in by Django's session,
with Django users and groups mapped to jobdeck roles by OPTIONS["ROLES"]."""

from __future__ import annotations

from typing import Any

import pytest

from tests.django.conftest import DJANGO_SKIP, DjangoProject

pytest.importorskip("django", minversion="6.0", reason=DJANGO_SKIP)


@pytest.fixture(scope="module")
def site(django_project: DjangoProject) -> Any:
    from django.contrib.auth.models import Group, User
    from django.core.asgi import get_asgi_application
    from starlette.testclient import TestClient

    from jobdeck.contrib.django.asgi import with_dashboard

    ops = Group.objects.create(name="ops")
    users = {
        "root": User.objects.create_superuser("root", "root@example.com", "pw"),
        "opsy": User.objects.create_user("opsy", "opsy@example.com", "pw"),
        "stafy": User.objects.create_user("stafy", "", "pw", is_staff=True),
        "nobody": User.objects.create_user("nobody", "nobody@example.com", "pw"),
        "gone": User.objects.create_user("gone", "gone@example.com", "pw"),
    }
    users["opsy"].groups.add(ops)
    application = with_dashboard(get_asgi_application(), path="/admin/jobs")
    with TestClient(application, base_url="http://testserver") as client:
        yield client, users


def _session_of(user: Any) -> dict[str, str]:
    """The Cookie header of a browser signed in to Django as ``user``."""
    from django.conf import settings
    from django.test import Client

    django_client = Client()
    django_client.force_login(user)
    value = django_client.cookies[settings.SESSION_COOKIE_NAME].value
    return {"Cookie": f"{settings.SESSION_COOKIE_NAME}={value}"}


def test_django_users_get_the_role_their_roles_entry_gives(site: Any) -> None:
    client, users = site
    page = client.get("/admin/jobs/jobs", headers=_session_of(users["root"]))
    assert page.status_code == 200
    assert '<base href="/admin/jobs/">' in page.text  # links know where it is mounted
    assert client.get("/admin/jobs/static/app.css").status_code == 200
    # superuser -> admin: the admin-only API answers.
    assert client.get("/admin/jobs/api/users", headers=_session_of(users["root"])).is_success

    partner = _session_of(users["opsy"])  # group:ops -> partner: jobs yes, users no
    assert "jobs" in client.get("/admin/jobs/api/jobs", headers=partner).json()
    assert client.get("/admin/jobs/api/users", headers=partner).status_code == 403

    # staff -> attorney (document search only) and no entry at all: the no-access page.
    for name in ("stafy", "nobody"):
        refused = client.get("/admin/jobs/jobs", headers=_session_of(users[name]))
        assert refused.status_code == 403, name
        assert "have access to background jobs" in refused.text


def test_without_a_django_session_the_dashboard_refuses(site: Any) -> None:
    from django.contrib.auth.models import User

    client, users = site
    assert client.get("/admin/jobs/api/jobs").status_code == 401
    assert (
        client.get("/admin/jobs/api/jobs", headers={"Cookie": "sessionid=forged"}).status_code
        == 401
    )
    signed_in = _session_of(users["gone"])
    User.objects.filter(username="gone").update(is_active=False)
    assert client.get("/admin/jobs/api/jobs", headers=signed_in).status_code == 401


def test_every_other_path_is_djangos(site: Any) -> None:
    client, users = site
    assert client.get("/hello/").text == "hello anonymous"
    assert client.get("/hello/", headers=_session_of(users["root"])).text == "hello root"
    assert client.get("/admin/jobsx/").status_code == 404  # a longer name is not the mount


def test_roles_are_checked_when_the_dashboard_is_built() -> None:
    pytest.importorskip("django", minversion="6.0", reason=DJANGO_SKIP)
    from jobdeck.accounts import AccessPolicy
    from jobdeck.contrib.django.auth import check_roles
    from jobdeck.errors import ConfigError

    with pytest.raises(ConfigError, match="unknown role 'amdin'"):
        check_roles({"superuser": "amdin"}, AccessPolicy())
    with pytest.raises(ConfigError, match="group:NAME"):
        check_roles({"superusers": "admin"}, AccessPolicy())
