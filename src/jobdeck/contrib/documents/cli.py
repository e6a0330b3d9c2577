"""``jobdeck documents``: add, list, delete, reprocess, reindex and search expert documents.

Attach to the main command with ``main.add_command(documents)``. The storage is the one the
``--app`` deck installed (``install_documents``), else ``--storage`` / $JOBDECK_DOCUMENTS_STORAGE
(a folder or ``s3://bucket/prefix``), else ./documents.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from jobdeck.cli.context import Context
from jobdeck.contrib.documents.pipeline import Documents, documents_of, install_documents
from jobdeck.contrib.documents.repository import STATUSES, DocumentRecord
from jobdeck.contrib.documents.storage import describe_size, storage_from_url
from jobdeck.control.audit import os_user

F = TypeVar("F", bound=Callable[..., Any])
STORAGE_ENV = "JOBDECK_DOCUMENTS_STORAGE"


def with_documents(command: F) -> F:
    """--app, --database (jobdeck's one rule for the database) and --storage on a command."""

    @click.option(
        "--storage",
        "storage_url",
        metavar="URL",
        default=None,
        help=f"Folder or s3://bucket/prefix (default: the app's, ${STORAGE_ENV}, ./documents).",
    )
    @click.option("--database", "database", metavar="URL", default=None, help="Database URL.")
    @click.option("--app", "app", metavar="MODULE:DECK", default=None, help="Your JobDeck object.")
    @functools.wraps(command)
    def wrapper(
        *args: Any, app: str | None, database: str | None, storage_url: str | None, **kwargs: Any
    ) -> Any:
        deck = Context(app, database).deck
        installed = documents_of(deck)
        if installed is None:
            url = storage_url or os.environ.get(STORAGE_ENV) or "documents"
            installed = install_documents(deck, storage_from_url(url), extract_in="thread")
        elif storage_url:
            installed.storage = storage_from_url(storage_url)
        try:
            return command(installed, *args, **kwargs)
        finally:
            installed.close()
            deck.close()

    return wrapper  # type: ignore[return-value]


def _line(record: DocumentRecord) -> str:
    reason = f"  {record.error_reason}" if record.error_reason else ""
    return (
        f"{record.id:>6}  {record.processing_status:<10} {record.owner_id}  {record.filename} "
        f"({describe_size(record.size_bytes)}){reason}"
    )


@click.group()
def documents() -> None:
    """Expert documents: upload, extraction, search index."""


@documents.command("add")
@with_documents
@click.argument("owner")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
def documents_add(docs: Documents, owner: str, files: tuple[Path, ...]) -> None:
    """Upload FILES for the expert OWNER and queue their processing."""
    for path in files:
        record = docs.add_file(owner, path, uploaded_by=f"cli:{os_user()}")
        click.echo(f"added document {record.id} ({record.filename}); job {record.job_id}")


@documents.command("list")
@with_documents
@click.option("--owner", default=None)
@click.option("--status", type=click.Choice(STATUSES), default=None)
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON list on stdout instead of lines.")
def documents_list(
    docs: Documents, owner: str | None, status: str | None, limit: int, as_json: bool
) -> None:
    """Documents newest first."""
    records = docs.find(owner, status, limit)
    if as_json:
        from jobdeck.cli.views import print_json

        print_json([record.as_json() for record in records])
        return
    for record in records:
        click.echo(_line(record))
    if not records:
        click.echo("no documents")


@documents.command("delete")
@with_documents
@click.argument("document_id", type=int)
def documents_delete(docs: Documents, document_id: int) -> None:
    """Delete a document and its file, and re-index its owner."""
    record = docs.delete(document_id)
    click.echo(f"deleted document {record.id} ({record.filename}); {record.owner_id} re-indexing")


@documents.command("reprocess")
@with_documents
@click.argument("document_id", type=int, required=False)
@click.option(
    "--status",
    type=click.Choice(["failed", "pending", "ready"]),
    default=None,
    help="Reprocess every document with this status.",
)
@click.option("--owner", default=None, help="Only this expert's documents (with --status).")
def documents_reprocess(
    docs: Documents, document_id: int | None, status: str | None, owner: str | None
) -> None:
    """Extract DOCUMENT_ID again, or every document with --status (e.g. failed)."""
    if (document_id is None) == (status is None):
        raise click.UsageError("give a DOCUMENT_ID or --status, not both")
    if document_id is not None:
        job = docs.reprocess(document_id)
        click.echo(f"reprocessing document {document_id}: job {job.id}")
        return
    assert status is not None
    records = docs.reprocess_status(status, owner)
    for record in records:
        click.echo(f"reprocessing document {record.id} ({record.filename}): job {record.job_id}")
    click.echo(f"{len(records)} document(s) queued")


@documents.command("reindex")
@with_documents
@click.argument("owner")
def documents_reindex(docs: Documents, owner: str) -> None:
    """Queue a re-index of one expert's search entries."""
    job = docs.reindex(owner)
    click.echo(f"re-index of {owner}: job {job.id}{'' if job.created else ' (already queued)'}")


@documents.command("search")
@with_documents
@click.argument("query")
@click.option("--limit", type=click.IntRange(1, 100), default=10, show_default=True)
def documents_search(docs: Documents, query: str, limit: int) -> None:
    """Experts whose documents contain every word of QUERY."""
    hits = docs.search(query, limit)
    for hit in hits:
        click.echo(f"{hit.owner_id}  {hit.filename} (document {hit.document_id})")
        click.echo(f"    {hit.snippet}")
    if not hits:
        click.echo("no match")
