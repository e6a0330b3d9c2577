"""Web entry points for documents: the upload and search pages, and their JSON endpoints.

Mount them in the dashboard::

    app = deck.asgi(
        extra_routers=[documents_pages(documents), documents_api(documents)],
        extra_nav=[("documents/search", "Expert search"), ("documents", "Documents")],
    )

Searching needs the ``search`` permission (attorneys have only that one); uploading needs
``trigger`` and deleting or reprocessing ``operate``, each overridable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape
from starlette.concurrency import run_in_threadpool

from jobdeck import accounts
from jobdeck.contrib.documents.pipeline import Documents, DocumentTooLarge
from jobdeck.contrib.documents.repository import STATUSES, DocumentRecord
from jobdeck.contrib.documents.storage import describe_size
from jobdeck.web.access import Principal, actor_of, csrf_token_for, needs
from jobdeck.web.api import ApiRoute
from jobdeck.web.errors import ERROR_TABLE, Rule
from jobdeck.web.formatting import install_filters
from jobdeck.web.live import live
from jobdeck.web.params import (
    BadParameter,
    Cursor,
    RowId,
    Text,
    TextFilter,
)
from jobdeck.web.rendering import PageRoute

HERE = Path(__file__).parent
MAX_FILES = 20
# Multipart framing around the files: a request bigger than this beyond the files is refused.
_FORM_OVERHEAD = 64 * 1024
_DIGITS = re.compile(r"[0-9]{1,19}")  # ASCII only: "²".isdigit() is True, int("²") raises
OwnerField = Annotated[Text, Form()]
SearchText = Annotated[Text, Query(min_length=1)]

# The handlers that only read and render are synchronous (FastAPI runs them in its
# threadpool); the uploads stay async to read their files and hand the store work to a thread.
# Either way no store call, file write or template render holds the event loop.


_LIVE_TABLE = "_documents_table.html"


@dataclass(frozen=True)
class Permissions:
    search: str = "search"
    upload: str = "trigger"
    manage: str = "operate"  # delete and reprocess


def _templates() -> Jinja2Templates:
    from jobdeck.web import app as dashboard

    env = Environment(
        loader=ChoiceLoader(
            [FileSystemLoader(HERE / "templates"), FileSystemLoader(dashboard.HERE / "templates")]
        ),
        autoescape=select_autoescape(default=True),
    )
    install_filters(env)
    return Jinja2Templates(env=env)


def _render(
    request: Request, templates: Jinja2Templates, name: str, status_code: int = 200, **context: Any
) -> HTMLResponse:
    """The dashboard's page context (base URL, user, CSRF token), with our template folder in
    front of its own so our pages extend its base.html."""
    from jobdeck.web.access import CSRF_COOKIE
    from jobdeck.web.rendering import set_cookie

    state = request.app.state
    root = request.scope.get("root_path", "").rstrip("/")
    response = templates.TemplateResponse(
        request,
        name,
        {
            "base_href": root + "/",
            "principal": getattr(request.state, "principal", None),
            "csrf_token": csrf_token_for(request),
            "builtin_login": getattr(state, "authorize", None) is None,
            "extra_nav": getattr(state, "extra_nav", []),
            "health_refresh": f"{getattr(state, 'health_refresh', 30.0):g}",
            "live_refresh": f"{getattr(state, 'live_refresh', 5.0):g}",
            "missing_assets": getattr(state, "missing_assets", None),
            **context,
        },
        status_code=status_code,
    )
    new_cookie = getattr(request.state, "new_csrf_cookie", None)
    if new_cookie:
        set_cookie(request, response, CSRF_COOKIE, new_cookie, http_only=True)
    return response


async def _read_uploads(
    documents: Documents, request: Request, files: list[UploadFile]
) -> list[tuple[str, bytes]]:
    """The uploaded files, refused early (413) when over the size limit."""
    limit = documents.settings.max_bytes
    declared = request.headers.get("content-length", "")
    if _DIGITS.fullmatch(declared) and int(declared) > limit * MAX_FILES + _FORM_OVERHEAD:
        raise DocumentTooLarge(f"the upload is larger than {MAX_FILES} files of the size limit")
    if not files:
        raise DocumentTooLarge("no file in the upload")
    if len(files) > MAX_FILES:
        raise DocumentTooLarge(f"at most {MAX_FILES} files per upload")
    read: list[tuple[str, bytes]] = []
    for upload in files:
        data = await upload.read(limit + 1)
        if len(data) > limit:
            raise DocumentTooLarge(
                f"{upload.filename or 'the file'} is over the {describe_size(limit)} limit"
            )
        name = upload.filename or "document"
        if "\x00" in name:
            raise BadParameter("Invalid request: a file name must not contain NUL characters")
        read.append((name, data))
    return read


async def _store_uploads(
    documents: Documents,
    request: Request,
    principal: Principal,
    owner_id: str,
    files: list[tuple[str, bytes]],
) -> list[DocumentRecord]:
    """Store each file, queue its processing and audit it, in the threadpool."""

    def store_all() -> list[DocumentRecord]:
        records = []
        for name, data in files:
            record = documents.upload(owner_id, name, data, uploaded_by=principal.name)
            _audit(documents, request, principal, "document_upload", record)
            records.append(record)
        return records

    return await run_in_threadpool(store_all)


def _audit(
    documents: Documents,
    request: Request,
    principal: Principal,
    action: str,
    record: DocumentRecord,
) -> None:
    deck = documents.deck
    accounts.audit(
        deck.store,
        deck.clock,
        actor_of(request, principal),
        action,
        f"document {record.id}",
        {"owner_id": record.owner_id, "filename": record.filename},
    )


# -- pages ----------------------------------------------------------------------------------------


def documents_pages(documents: Documents, permissions: Permissions | None = None) -> APIRouter:
    """The search page (``/documents/search``) and the documents page (``/documents``)."""
    allowed = permissions or Permissions()
    templates = _templates()
    router = APIRouter(include_in_schema=False, route_class=PageRoute)
    # Depends objects as defaults, not Annotated aliases: the permissions are this call's, and
    # annotations (postponed by the __future__ import) cannot name local variables.
    searcher, uploader, manager = _dependencies(allowed)

    @router.get("/documents/search", response_class=HTMLResponse)
    def search_page(
        request: Request, q: Annotated[Text, Query()] = "", principal: Principal = searcher
    ) -> Response:
        hits = documents.search(q) if q.strip() else []
        return _render(
            request, templates, "documents_search.html", nav="documents/search", query=q, hits=hits
        )

    @router.get("/documents", response_class=HTMLResponse)
    def documents_page(
        request: Request,
        owner_id: Annotated[Text, Query()] = "",
        status: Annotated[str, Query(max_length=20)] = "",
        before: Cursor = None,
        principal: Principal = uploader,
    ) -> Response:
        chosen = status if status in STATUSES else None
        records = documents.find(owner_id.strip() or None, chosen, 51, before)
        next_before = records[49].id if len(records) > 50 else None
        older = None
        if next_before is not None:
            kept = {"owner_id": owner_id, "status": chosen or "", "before": str(next_before)}
            older = "documents?" + urlencode({k: v for k, v in kept.items() if v})
        # The same list, polled: the page's filters and cursor, the table alone.
        shown = {"owner_id": owner_id, "status": chosen or "", "before": str(before or "")}
        live_url = "documents?" + urlencode({**{k: v for k, v in shown.items() if v}, "live": 1})
        page = _render(
            request,
            templates,
            _LIVE_TABLE if request.query_params.get("live") == "1" else "documents_list.html",
            nav="documents",
            live_url=live_url,
            records=records[:50],
            next_before=next_before,
            older_url=older,
            owner_id=owner_id,
            status=chosen or "",
            statuses=STATUSES,
            max_size=describe_size(documents.settings.max_bytes),
            can_manage=principal.can(allowed.manage),
            notice=request.query_params.get("notice", "")[:500],
        )
        return live(request, page)

    @router.post("/documents", response_class=HTMLResponse)
    async def upload_form(
        request: Request,
        owner_id: OwnerField,
        files: Annotated[list[UploadFile], File()],
        principal: Principal = uploader,
    ) -> Response:
        read = await _read_uploads(documents, request, files)
        records = await _store_uploads(documents, request, principal, owner_id, read)
        notice = f"Uploaded {len(records)} file(s); processing has been queued."
        return _redirect(request, "documents", owner_id=owner_id, notice=notice)

    @router.post("/documents/{document_id}/delete", response_class=HTMLResponse)
    def delete_form(
        request: Request, document_id: RowId, principal: Principal = manager
    ) -> Response:
        record = documents.delete(document_id)
        _audit(documents, request, principal, "document_delete", record)
        notice = f"Deleted {record.filename}; {record.owner_id} will be re-indexed."
        return _redirect(request, "documents", owner_id=record.owner_id, notice=notice)

    @router.post("/documents/{document_id}/reprocess", response_class=HTMLResponse)
    def reprocess_form(
        request: Request, document_id: RowId, principal: Principal = manager
    ) -> Response:
        documents.reprocess(document_id)
        record = documents.get(document_id)
        _audit(documents, request, principal, "document_reprocess", record)
        notice = f"{record.filename} will be processed again."
        return _redirect(request, "documents", owner_id=record.owner_id, notice=notice)

    return router


def _dependencies(allowed: Permissions) -> tuple[Any, Any, Any]:
    """The search, upload and manage checks, as FastAPI dependencies."""
    return (
        Depends(needs(allowed.search)),
        Depends(needs(allowed.upload)),
        Depends(needs(allowed.manage)),
    )


def _redirect(request: Request, path: str, **params: str) -> RedirectResponse:
    root = request.scope.get("root_path", "").rstrip("/")
    query = urlencode({k: v for k, v in params.items() if v})
    return RedirectResponse(f"{root}/{path}{'?' + query if query else ''}", status_code=303)


# -- JSON -----------------------------------------------------------------------------------------


class _JsonErrors(ApiRoute):
    """Errors as the REST API answers them, wherever the router is mounted (the dashboard's
    own handlers would answer with HTML pages or a login redirect), uploads over the limit
    included."""

    table = {DocumentTooLarge: Rule(413, "too_large"), **ERROR_TABLE}


def documents_api(
    documents: Documents, permissions: Permissions | None = None, prefix: str = "/api"
) -> APIRouter:
    """JSON: upload, list, show, delete and reprocess documents; search experts.

    ``prefix`` is "/api" when the router joins the dashboard app, "" inside the API app.
    """
    allowed = permissions or Permissions()
    router = APIRouter(prefix=prefix, route_class=_JsonErrors, tags=["documents"])
    searcher, uploader, manager = _dependencies(allowed)

    @router.get("/search")
    def search(
        q: SearchText,
        limit: Annotated[int, Query(ge=1, le=100)] = 20,
        principal: Principal = searcher,
    ) -> dict[str, Any]:
        """Experts whose documents contain every word of ``q``, best first, with a snippet
        (``snippet_html`` is escaped and marks matches with ``<mark>``)."""
        hits = documents.search(q, limit)
        return {"query": q, "results": [h.as_json() for h in hits]}

    @router.post("/documents", status_code=201)
    async def upload(
        request: Request,
        owner_id: OwnerField,
        files: Annotated[list[UploadFile], File()],
        principal: Principal = uploader,
    ) -> dict[str, Any]:
        """Upload one or more files for an expert; each is processed by a background job."""
        read = await _read_uploads(documents, request, files)
        records = await _store_uploads(documents, request, principal, owner_id, read)
        return {"documents": [r.as_json() for r in records]}

    @router.get("/documents")
    def list_documents(
        owner_id: TextFilter = None,
        status: Annotated[str | None, Query(pattern="^(pending|processing|ready|failed)$")] = None,
        before: Cursor = None,
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
        principal: Principal = uploader,
    ) -> dict[str, Any]:
        rows = documents.find(owner_id, status, limit + 1, before)
        return {
            "documents": [r.as_json() for r in rows[:limit]],
            "next_before": rows[limit - 1].id if len(rows) > limit else None,
        }

    @router.get("/documents/{document_id}")
    def show(document_id: RowId, principal: Principal = uploader) -> dict[str, Any]:
        return documents.get(document_id).as_json()

    @router.delete("/documents/{document_id}")
    def delete(
        request: Request, document_id: RowId, principal: Principal = manager
    ) -> dict[str, Any]:
        """Delete the record and its file; the owner is re-indexed."""
        record = documents.delete(document_id)
        _audit(documents, request, principal, "document_delete", record)
        return record.as_json()

    @router.post("/documents/{document_id}/reprocess")
    def reprocess(
        request: Request, document_id: RowId, principal: Principal = manager
    ) -> dict[str, Any]:
        job = documents.reprocess(document_id)
        record = documents.get(document_id)
        _audit(documents, request, principal, "document_reprocess", record)
        return {"document": record.as_json(), "job_id": job.id}

    @router.post("/documents/reprocess")
    def reprocess_all(
        request: Request,
        status: Annotated[str, Query(pattern="^(failed|pending|ready)$")] = "failed",
        owner_id: TextFilter = None,
        principal: Principal = manager,
    ) -> dict[str, Any]:
        """Reprocess every document with ``status`` (by default the failed ones)."""
        records = documents.reprocess_status(status, owner_id)
        for record in records:
            _audit(documents, request, principal, "document_reprocess", record)
        return {"documents": [r.as_json() for r in records]}

    return router
