"""The S3 backend against a real S3-compatible HTTP server: moto's standalone server, started
on 127.0.0.1 by the test session as a subprocess (no patched client)."""

from __future__ import annotations

import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jobdeck import JobDeck
from jobdeck.contrib.documents import (
    Documents,
    S3Storage,
    StorageError,
    StoredFileMissing,
    install_documents,
    storage_from_url,
)
from jobdeck.contrib.documents.extract import PDF
from jobdeck.contrib.documents.storage import StoredFileTooLarge
from tests.documents import files
from tests.documents.conftest import wait_settled
from tests.ports import free_port
from tests.worker.helpers import FAST, running_worker, wait_until

CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
REGION = "us-east-1"


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    log = tmp_path_factory.mktemp("moto") / "server.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until(lambda: _answers(port) or server.poll() is not None, 30, "moto server")
        if server.poll() is not None:
            pytest.fail(f"moto server exited: {Path(log).read_text()[-2000:]}")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(10)


def _client(endpoint: str) -> Any:
    import boto3

    return boto3.client("s3", endpoint_url=endpoint, region_name=REGION, **CREDENTIALS)


@pytest.fixture
def bucket(s3_endpoint: str) -> str:
    name = f"docs-{uuid.uuid4().hex[:10]}"
    _client(s3_endpoint).create_bucket(Bucket=name)
    return name


def _storage(endpoint: str, bucket: str, prefix: str = "uploads") -> S3Storage:
    return S3Storage(
        bucket, prefix=prefix, endpoint_url=endpoint, region_name=REGION, **CREDENTIALS
    )


def test_put_read_delete_under_the_prefix(s3_endpoint: str, bucket: str) -> None:
    storage = _storage(s3_endpoint, bucket)
    storage.put("expert-1/abc/cv.pdf", b"%PDF-1.4 hello", PDF)
    listed = _client(s3_endpoint).list_objects_v2(Bucket=bucket)["Contents"]
    assert [o["Key"] for o in listed] == ["uploads/expert-1/abc/cv.pdf"]
    assert storage.exists("expert-1/abc/cv.pdf")
    assert storage.read("expert-1/abc/cv.pdf", max_bytes=1000) == b"%PDF-1.4 hello"
    assert storage.describe("expert-1/abc/cv.pdf") == f"s3://{bucket}/uploads/expert-1/abc/cv.pdf"
    storage.delete("expert-1/abc/cv.pdf")
    assert not storage.exists("expert-1/abc/cv.pdf")
    with pytest.raises(StoredFileMissing, match="no object at s3://"):
        storage.read("expert-1/abc/cv.pdf", max_bytes=1000)


def test_size_limit_without_downloading_it_all(s3_endpoint: str, bucket: str) -> None:
    storage = _storage(s3_endpoint, bucket)
    storage.put("big.bin", b"x" * 5000, "application/octet-stream")
    with pytest.raises(StoredFileTooLarge) as caught:
        storage.read("big.bin", max_bytes=1000)
    assert caught.value.size == 5000
    assert str(caught.value).startswith("file too large: 4.9 KB, over the 1000 bytes limit")
    assert storage.read("big.bin", max_bytes=5000) == b"x" * 5000
    storage.put("empty.bin", b"", "application/octet-stream")
    assert storage.read("empty.bin", max_bytes=10) == b""


def test_missing_bucket_and_unreachable_server(s3_endpoint: str) -> None:
    with pytest.raises(StoredFileMissing, match="does not exist"):
        _storage(s3_endpoint, "no-such-bucket").read("a", 10)
    nowhere = _storage(f"http://127.0.0.1:{free_port()}", "bucket")
    with pytest.raises(StorageError, match="S3 unreachable"):
        nowhere.read("a", 10)


def test_storage_from_url() -> None:
    storage = storage_from_url("s3://bucket/some/prefix?endpoint_url=http://127.0.0.1:9000")
    assert isinstance(storage, S3Storage)
    assert storage.describe("k") == "s3://bucket/some/prefix/k"
    assert storage.endpoint_url == "http://127.0.0.1:9000"


def test_pipeline_on_s3(db_url: str, s3_endpoint: str, bucket: str) -> None:
    deck = JobDeck(db_url, **FAST)
    documents: Documents = install_documents(
        deck, storage=_storage(s3_endpoint, bucket, prefix="experts"), index_delay=0.2
    )
    try:
        record = documents.upload("expert-s3", "cv.pdf", files.multi_page_pdf("speleologist"))
        missing = documents.upload("expert-s3", "gone.pdf", files.multi_page_pdf())
        documents.storage.delete(missing.storage_key)
        with running_worker(deck):
            wait_settled(documents, [record.id, missing.id])
            assert documents.get(record.id).processing_status == "ready"
            assert [h.owner_id for h in documents.search("speleologist")] == ["expert-s3"]
            gone = documents.get(missing.id)
            assert gone.error_reason is not None
            assert gone.error_reason.startswith(
                f"file missing from storage: no object at s3://{bucket}/experts/"
            )
            documents.delete(record.id)
        assert not documents.storage.exists(record.storage_key)
    finally:
        documents.close()
        deck.close()
