"""The demo's "Sent mail" page: the emails the jobs sent to the demo SMTP server."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from jobdeck.demo.app import db
from jobdeck.demo.mail import recent_mail
from jobdeck.web.access import require
from jobdeck.web.app import render

mail_router = APIRouter(include_in_schema=False)


@mail_router.get("/demo/mail", response_class=HTMLResponse)
async def sent_mail(request: Request) -> Response:
    await require(request, "view")
    return render(request, "demo_mail.html", nav="demo/mail", messages=recent_mail(db(), 100))
