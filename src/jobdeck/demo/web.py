"""The demo's "Sent mail" page: the emails the jobs sent to the demo SMTP server."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from jobdeck.demo.app import db
from jobdeck.demo.mail import recent_mail
from jobdeck.web.access import Principal, needs
from jobdeck.web.rendering import render

mail_router = APIRouter(include_in_schema=False)


@mail_router.get("/demo/mail", response_class=HTMLResponse)
def sent_mail(request: Request, _: Annotated[Principal, Depends(needs("view"))]) -> Response:
    # A plain def: FastAPI runs it in its threadpool, off the event loop, like the dashboard.
    return render(request, "demo_mail.html", nav="demo/mail", messages=recent_mail(db(), 100))
