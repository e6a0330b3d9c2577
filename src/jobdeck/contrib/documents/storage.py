"""Where uploaded files live: a local folder (the default, for development) or an S3 bucket.

Keys are relative paths such as ``expert-42/3f9c.../cv.pdf``; each backend maps them to its
own place (a file under the root folder, an object under the bucket's prefix).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from jobdeck.errors import ConfigError, JobDeckError
from jobdeck.extras import require_extra


class StorageError(JobDeckError):
    """The storage could not be reached or refused the operation (worth retrying)."""


class StoredFileMissing(JobDeckError):
    """No file is stored under the key (deleted, never uploaded, wrong bucket or folder)."""


class StoredFileTooLarge(JobDeckError):
    """The stored file is larger than the limit; ``size`` is its real size in bytes."""

    def __init__(self, message: str, size: int) -> None:
        super().__init__(message)
        self.size = size


class Storage(Protocol):
    """A flat key -> bytes store. ``read`` refuses files over ``max_bytes`` before reading them."""

    def put(self, key: str, data: bytes, content_type: str) -> None: ...
    def read(self, key: str, max_bytes: int) -> bytes: ...
    def delete(self, key: str) -> None: ...
    def exists(self, key: str) -> bool: ...
    def describe(self, key: str) -> str:
        """Where the key lives, for messages people read (``s3://bucket/prefix/key``)."""
        ...


def new_key(owner_id: str, filename: str) -> str:
    """A key nobody else has: the owner's folder, a random part, then the (sanitised) name."""
    owner = "".join(c if c.isalnum() or c in "-_." else "_" for c in owner_id)[:80] or "owner"
    return f"{owner.strip('.') or 'owner'}/{uuid.uuid4().hex}/{filename}"


def _check_key(key: str) -> str:
    parts = key.split("/")
    if not key or key.startswith("/") or any(p in ("", ".", "..") for p in parts) or "\\" in key:
        raise ConfigError(f"invalid storage key {key!r}")
    return key


def _too_large(key: str, size: int, limit: int) -> StoredFileTooLarge:
    return StoredFileTooLarge(
        f"file too large: {describe_size(size)}, over the {describe_size(limit)} limit "
        f"({key}); upload a smaller file or raise max_bytes",
        size,
    )


def describe_size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB"
    if size >= 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size} bytes"


class LocalStorage:
    """Files under one folder; writes are atomic (a temporary file renamed into place)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).resolve()

    def __repr__(self) -> str:
        return f"LocalStorage({str(self.root)!r})"

    def _path(self, key: str) -> Path:
        path = (self.root / _check_key(key)).resolve()
        if not path.is_relative_to(self.root):
            raise ConfigError(f"storage key {key!r} leaves the storage folder")
        return path

    def put(self, key: str, data: bytes, content_type: str) -> None:
        import tempfile

        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(temporary, path)
        except OSError as exc:
            raise StorageError(f"cannot write {path}: {exc.strerror or exc}") from None

    def read(self, key: str, max_bytes: int) -> bytes:
        path = self._path(key)
        try:
            with path.open("rb") as source:
                size = os.fstat(source.fileno()).st_size
                if size > max_bytes:
                    raise _too_large(self.describe(key), size, max_bytes)
                return source.read(max_bytes + 1)
        except FileNotFoundError:
            raise StoredFileMissing(f"no file at {path}") from None
        except OSError as exc:
            raise StorageError(f"cannot read {path}: {exc.strerror or exc}") from None

    def delete(self, key: str) -> None:
        path = self._path(key)
        try:
            path.unlink(missing_ok=True)
            # Remove the key's now-empty folders, never the root itself.
            for parent in path.parents:
                if parent == self.root or not parent.is_relative_to(self.root):
                    break
                parent.rmdir()
        except OSError:
            return  # a folder still in use by another file: nothing to clean up

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def describe(self, key: str) -> str:
        return str(self._path(key))


@dataclass(frozen=True)
class S3Location:
    bucket: str
    prefix: str = ""


class S3Storage:
    """Objects in an S3 bucket (or any S3-compatible service through ``endpoint_url``).

    Credentials and region come from boto3's usual chain (environment, config files, instance
    role) unless given. boto3 is imported on first use, so workers that never touch documents
    do not pay for it.
    """

    def __init__(
        self,
        bucket: str,
        *,
        prefix: str = "",
        endpoint_url: str | None = None,
        region_name: str | None = None,
        aws_access_key_id: str | None = None,
        aws_secret_access_key: str | None = None,
        client: Any = None,
    ) -> None:
        if not bucket:
            raise ConfigError("S3Storage needs a bucket name")
        if client is None:
            require_extra("s3", "S3 storage")
        self.location = S3Location(bucket, prefix.strip("/"))
        self.endpoint_url = endpoint_url
        self._client_options: dict[str, Any] = {
            key: value
            for key, value in {
                "endpoint_url": endpoint_url,
                "region_name": region_name,
                "aws_access_key_id": aws_access_key_id,
                "aws_secret_access_key": aws_secret_access_key,
            }.items()
            if value
        }
        self._client = client

    def __repr__(self) -> str:
        where = f" at {self.endpoint_url}" if self.endpoint_url else ""
        return f"S3Storage(s3://{self.location.bucket}/{self.location.prefix}{where})"

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3  # type: ignore[import-untyped]

            self._client = boto3.client("s3", **self._client_options)
        return self._client

    def _key(self, key: str) -> str:
        _check_key(key)
        return f"{self.location.prefix}/{key}" if self.location.prefix else key

    def put(self, key: str, data: bytes, content_type: str) -> None:
        with self._errors(key):
            self.client.put_object(
                Bucket=self.location.bucket, Key=self._key(key), Body=data, ContentType=content_type
            )

    def read(self, key: str, max_bytes: int) -> bytes:
        try:
            with self._errors(key):
                # One byte more than allowed: a larger object is refused without being
                # downloaded whole, and ContentRange tells its real size.
                answer = self.client.get_object(
                    Bucket=self.location.bucket, Key=self._key(key), Range=f"bytes=0-{max_bytes}"
                )
                body = answer["Body"]
                total = _total_size(answer.get("ContentRange"), answer.get("ContentLength", 0))
                if total > max_bytes:
                    body.close()
                    raise _too_large(self.describe(key), total, max_bytes)
                data: bytes = body.read()
                return data
        except _EmptyObject:
            return b""

    def delete(self, key: str) -> None:
        with self._errors(key):
            self.client.delete_object(Bucket=self.location.bucket, Key=self._key(key))

    def exists(self, key: str) -> bool:
        try:
            with self._errors(key):
                self.client.head_object(Bucket=self.location.bucket, Key=self._key(key))
        except StoredFileMissing:
            return False
        return True

    def describe(self, key: str) -> str:
        return f"s3://{self.location.bucket}/{self._key(key)}"

    @contextmanager
    def _errors(self, key: str) -> Iterator[None]:
        """botocore's errors as ours: a missing object or bucket is not worth a retry."""
        from botocore.exceptions import (  # type: ignore[import-untyped]
            BotoCoreError,
            ClientError,
        )

        where = self.describe(key)
        try:
            yield
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code = str(error.get("Code", ""))
            if code in ("NoSuchKey", "404", "NotFound"):
                raise StoredFileMissing(f"no object at {where}") from None
            if code == "NoSuchBucket":
                raise StoredFileMissing(
                    f"bucket {self.location.bucket!r} does not exist ({where})"
                ) from None
            if code == "InvalidRange":  # an empty object, asked for bytes=0-N
                raise _EmptyObject from None
            message = error.get("Message") or code
            raise StorageError(f"S3 refused {where}: {code} {message}".strip()) from None
        except BotoCoreError as exc:
            raise StorageError(f"S3 unreachable for {where}: {exc}") from None


class _EmptyObject(Exception):
    pass


def _total_size(content_range: str | None, length: int) -> int:
    """'bytes 0-99/12345' -> 12345; without a range the object was returned whole."""
    if content_range and "/" in content_range:
        total = content_range.rsplit("/", 1)[1]
        if total.isdigit():
            return int(total)
    return int(length)


def storage_from_url(url: str) -> Storage:
    """``/path``, ``file:///path`` or ``s3://bucket/prefix?endpoint_url=http://host:9000``.

    >>> storage_from_url("s3://expert-docs/uploads?region_name=eu-west-1")
    S3Storage(s3://expert-docs/uploads)
    """
    parts = urlsplit(url)
    if parts.scheme in ("", "file"):
        path = unquote(parts.path if parts.scheme else url)
        if not path:
            raise ConfigError(f"invalid storage URL {url!r}: give a folder, file:///srv/docs")
        return LocalStorage(path)
    if parts.scheme == "s3":
        options = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        known = {"endpoint_url", "region_name"}
        unknown = set(options) - known
        if unknown:
            raise ConfigError(
                f"unknown S3 storage option(s) {sorted(unknown)}: use {', '.join(sorted(known))}"
            )
        return S3Storage(
            parts.netloc,
            prefix=unquote(parts.path),
            endpoint_url=options.get("endpoint_url"),
            region_name=options.get("region_name"),
        )
    raise ConfigError(f"unsupported storage URL {url!r}: use a folder path or s3://bucket/prefix")
