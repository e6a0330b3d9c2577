"""``jobdeck documents add / list / reprocess / delete / search`` on a real database and folder."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from jobdeck import JobDeck
from jobdeck.cli import BareDeck
from jobdeck.contrib.documents import DocumentNotFound, LocalStorage, install_documents
from jobdeck.contrib.documents.cli import documents as documents_group
from jobdeck.contrib.documents.extract import PDF
from tests.documents import files
from tests.documents.conftest import wait_settled
from tests.worker.helpers import FAST, running_worker


def run(db_url: str, storage: Path, *args: str) -> Result:
    command, *rest = args
    result = CliRunner().invoke(
        documents_group,
        [command, "--database", db_url, "--storage", str(storage), *rest],
        obj=BareDeck(JobDeck),  # what the jobdeck command hands its groups (jobdeck.console)
    )
    return result


def test_add_reprocess_search_and_delete(db_url: str, tmp_path: Path) -> None:
    storage = tmp_path / "files"
    good = tmp_path / "cv.pdf"
    good.write_bytes(files.multi_page_pdf("volcanologist"))
    bad = tmp_path / "broken.pdf"
    bad.write_bytes(files.corrupt_pdf())

    added = run(db_url, storage, "add", "expert-cli", str(good), str(bad))
    assert added.exit_code == 0, added.output
    ids = [int(n) for n in re.findall(r"added document (\d+)", added.output)]
    assert len(ids) == 2

    deck = JobDeck(db_url, **FAST)
    documents = install_documents(deck, LocalStorage(storage), index_delay=0.1)
    try:
        with running_worker(deck):
            wait_settled(documents, ids)
            listed = run(db_url, storage, "list", "--status", "failed")
            assert "broken.pdf" in listed.output and "corrupt PDF" in listed.output

            found = run(db_url, storage, "search", "volcanologist")
            assert "expert-cli" in found.output and "cv.pdf" in found.output

            documents.storage.put(documents.get(ids[1]).storage_key, files.multi_page_pdf(), PDF)
            again = run(db_url, storage, "reprocess", "--status", "failed")
            assert again.exit_code == 0, again.output
            assert f"reprocessing document {ids[1]} (broken.pdf)" in again.output
            wait_settled(documents, ids)
            assert documents.get(ids[1]).processing_status == "ready"

            cv_key = documents.get(ids[0]).storage_key
            deleted = run(db_url, storage, "delete", str(ids[0]))
            assert deleted.exit_code == 0, deleted.output
            assert "re-indexing" in deleted.output
            wait_settled(documents, [ids[1]])
        assert documents.search("volcanologist") == []
        assert not documents.storage.exists(cv_key)

        unknown = run(db_url, storage, "delete", "999999")
        assert isinstance(unknown.exception, DocumentNotFound)
        neither = run(db_url, storage, "reprocess")
        assert neither.exit_code == 2 and "DOCUMENT_ID or --status" in neither.output
    finally:
        documents.close()
        deck.close()


@pytest.mark.parametrize("command", ["add", "delete", "reprocess", "list", "search", "reindex"])
def test_every_command_takes_app_and_database(command: str) -> None:
    shown = CliRunner().invoke(documents_group, [command, "--help"])
    assert "--app" in shown.output and "--database" in shown.output and "--storage" in shown.output
