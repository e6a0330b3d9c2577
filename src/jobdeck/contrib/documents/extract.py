"""Plain text out of uploaded documents: PDF (pypdf), DOCX (python-docx), legacy DOC (antiword).

The format comes from the file's first bytes, never from its name. Every failure is an
``ExtractionFailed`` whose message tells a person what to do about it; the module-level
functions here are what the extractor processes import and run.
"""

from __future__ import annotations

import io
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
DOC = "application/msword"
SUPPORTED = "PDF (.pdf) or Word (.docx, .doc)"

# Snippet highlighting marks matches with these private-use characters; documents never keep them.
MARK_OPEN = "\ue000"
MARK_CLOSE = "\ue001"

_OLE_MAGIC = bytes.fromhex("d0cf11e0a1b11ae1")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ue000\ue001\ufeff]")
_SPACES = re.compile(r"[ \t\xa0]+")
_BLANK_LINES = re.compile(r"\n\s*\n\s*\n+")


class ExtractionFailed(Exception):
    """Extraction cannot succeed for this file as it is; retrying would not help.

    ``code`` is stable (corrupt_pdf, password_protected, no_text, unsupported_format, ...);
    the message is for people.
    """

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(code, reason)
        self.code = code
        self.reason = reason

    def __str__(self) -> str:
        return self.reason


class UnsupportedFormat(ExtractionFailed):
    """Not a PDF or Word file: the pipeline logs it and skips it (no attempt is retried)."""

    def __init__(self, description: str, reason: str | None = None) -> None:
        super().__init__(
            "unsupported_format",
            reason or f"unsupported format: {description}; upload a {SUPPORTED} file instead",
        )
        self.description = description

    def __reduce__(self) -> tuple[Any, ...]:
        return (UnsupportedFormat, (self.description, self.reason))


@dataclass(frozen=True)
class Format:
    """What the first bytes say a file is; ``kind`` is pdf, docx, doc or None (unsupported)."""

    kind: str | None
    content_type: str
    description: str


@dataclass(frozen=True)
class ExtractOptions:
    max_bytes: int = 25 * 1024 * 1024
    max_text_chars: int = 5_000_000
    antiword: str = "antiword"
    antiword_timeout: float = 60.0


@dataclass(frozen=True)
class Extracted:
    text: str
    kind: str
    content_type: str
    pages: int | None = None  # PDF pages; None where the format has no fixed pages
    truncated: bool = False
    full_chars: int | None = None  # the whole text's length when it was cut


def sniff(data: bytes) -> Format:
    """The file's real format, from its magic bytes (and for ZIP and OLE files, their parts)."""
    head = data[:2048]
    if b"%PDF-" in head[:1024]:
        return Format("pdf", PDF, "PDF document")
    if head.startswith(b"PK\x03\x04"):
        return _sniff_zip(data)
    if head.startswith(_OLE_MAGIC):
        return _sniff_ole(data)
    for magic, content_type, description in _OTHER_MAGIC:
        if head.startswith(magic):
            return Format(None, content_type, description)
    if not data:
        return Format(None, "application/octet-stream", "empty file (0 bytes)")
    if b"\x00" not in head:
        try:
            head.decode("utf-8")
            return Format(None, "text/plain", "plain text file")
        except UnicodeDecodeError as exc:
            if exc.start >= len(head) - 4:  # a character cut by our 2 KB window
                return Format(None, "text/plain", "plain text file")
    return Format(None, "application/octet-stream", "unrecognised binary file")


_OTHER_MAGIC = (
    (b"{\\rtf", "application/rtf", "RTF document (save it as .docx or PDF)"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "PNG image (a scan must be a PDF with a text layer)"),
    (b"\xff\xd8\xff", "image/jpeg", "JPEG image (a scan must be a PDF with a text layer)"),
    (b"GIF8", "image/gif", "GIF image"),
    (b"II*\x00", "image/tiff", "TIFF image (a scan must be a PDF with a text layer)"),
    (b"MM\x00*", "image/tiff", "TIFF image (a scan must be a PDF with a text layer)"),
    (b"Rar!", "application/vnd.rar", "RAR archive"),
    (b"7z\xbc\xaf\x27\x1c", "application/x-7z-compressed", "7-Zip archive"),
    (b"\x1f\x8b", "application/gzip", "gzip archive"),
)


def _sniff_zip(data: bytes) -> Format:
    import zipfile

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            mimetype = (
                archive.read("mimetype").decode("ascii", "replace") if ("mimetype" in names) else ""
            )
    except (zipfile.BadZipFile, OSError, ValueError, KeyError):
        # Could be a damaged .docx (a ZIP inside); extraction reports it as corrupt.
        return Format("docx", DOCX, "damaged ZIP container")
    if "word/document.xml" in names:
        return Format("docx", DOCX, "Word document (.docx)")
    if "xl/workbook.xml" in names:
        return Format(None, "application/vnd.ms-excel", "Excel workbook (.xlsx)")
    if "ppt/presentation.xml" in names:
        return Format(None, "application/vnd.ms-powerpoint", "PowerPoint presentation (.pptx)")
    if mimetype.startswith("application/vnd.oasis.opendocument"):
        return Format(None, mimetype, "OpenDocument file (save it as .docx or PDF)")
    return Format(None, "application/zip", "ZIP archive")


def _sniff_ole(data: bytes) -> Format:
    # OLE2 directory entries name their streams in UTF-16LE; enough to tell the Office kinds.
    def has(name: str) -> bool:
        return name.encode("utf-16-le") in data

    if has("EncryptedPackage"):
        return Format("docx", DOCX, "password-protected Office document")
    if has("WordDocument"):
        return Format("doc", DOC, "Word 97-2003 document (.doc)")
    if has("Workbook") or has("Book"):
        return Format(None, "application/vnd.ms-excel", "Excel 97-2003 workbook (.xls)")
    if has("PowerPoint Document"):
        return Format(None, "application/vnd.ms-powerpoint", "PowerPoint 97-2003 file (.ppt)")
    return Format(None, "application/x-ole-storage", "Office 97-2003 file of an unknown kind")


def extract(data: bytes, options: ExtractOptions | None = None) -> Extracted:
    """Text of a PDF, DOCX or DOC file; raises ExtractionFailed with a reason people can act on."""
    options = options or ExtractOptions()
    if len(data) > options.max_bytes:
        from jobdeck.contrib.documents.storage import describe_size

        raise ExtractionFailed(
            "too_large",
            f"file too large: {describe_size(len(data))}, over the "
            f"{describe_size(options.max_bytes)} limit; upload a smaller file",
        )
    found = sniff(data)
    if found.kind is None:
        if not data:
            raise ExtractionFailed(
                "no_text", "no extractable text: the file is empty (0 bytes); upload it again"
            )
        raise UnsupportedFormat(found.description)
    if found.kind == "pdf":
        text, pages = _pdf_text(data)
    elif found.kind == "docx":
        text, pages = _docx_text(data, found), None
    else:
        text, pages = _doc_text(data, options), None
    text = clean_text(text)
    if not text:
        where = f"its {pages} page(s) have" if pages else "it has"
        hint = (
            "it is probably scanned or image-only: run OCR on it or upload a text-based PDF"
            if found.kind == "pdf"
            else "add text to it or upload the document that holds the text"
        )
        raise ExtractionFailed("no_text", f"no extractable text: {where} no text; {hint}")
    truncated = len(text) > options.max_text_chars
    return Extracted(
        text[: options.max_text_chars],
        found.kind,
        found.content_type,
        pages,
        truncated,
        len(text) if truncated else None,
    )


def clean_text(text: str) -> str:
    """One form for every extractor: NFC, no control characters (PostgreSQL refuses NUL),
    single spaces, at most one blank line in a row."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub(" ", text)
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


# -- PDF ------------------------------------------------------------------------------------------


def _pdf_text(data: bytes) -> tuple[str, int]:
    from pypdf import PasswordType, PdfReader
    from pypdf.errors import DependencyError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                opened = reader.decrypt("")
            except DependencyError:
                raise ExtractionFailed(
                    "encryption_unsupported",
                    "encrypted PDF: reading it needs the 'cryptography' package on the worker "
                    "(pip install 'pypdf[crypto]'), then reprocess it",
                ) from None
            if opened == PasswordType.NOT_DECRYPTED:
                raise ExtractionFailed(
                    "password_protected",
                    "password-protected PDF: save a copy without the password (or print it to "
                    "PDF) and upload that",
                )
        pages = reader.pages
        count = len(pages)
    except ExtractionFailed:
        raise
    except Exception as exc:
        raise _corrupt_pdf(exc) from exc
    texts: list[str] = []
    failures: list[Exception] = []
    for page in pages:
        try:
            texts.append(page.extract_text() or "")
        except Exception as exc:  # one bad page must not hide the others
            failures.append(exc)
    if failures and len(failures) == count:
        raise _corrupt_pdf(failures[0]) from failures[0]
    return "\n\n".join(texts), count


def _corrupt_pdf(exc: BaseException) -> ExtractionFailed:
    detail = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
    return ExtractionFailed(
        "corrupt_pdf",
        f"corrupt PDF ({detail}): open it in a PDF reader, save or export it again, and upload "
        "the new file",
    )


# -- DOCX -----------------------------------------------------------------------------------------


def _docx_text(data: bytes, found: Format) -> str:
    if found.description == "password-protected Office document":
        raise ExtractionFailed(
            "password_protected",
            "password-protected Word document: save a copy without the password and upload that",
        )
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    def blocks(container: Any) -> list[str]:
        out: list[str] = []
        for block in container.iter_inner_content():
            if isinstance(block, Paragraph):
                out.append(block.text)
            elif isinstance(block, Table):
                out.extend(table_lines(block))
        return out

    def table_lines(table: Table) -> list[str]:
        lines = []
        for row in table.rows:
            cells: list[str] = []
            for cell in row.cells:
                text = " ".join(part for part in blocks(cell) if part.strip())
                # Merged cells come back once per grid column: keep one copy.
                if not cells or cells[-1] != text:
                    cells.append(text)
            lines.append(" | ".join(cells))
        return lines

    try:
        document = docx.Document(io.BytesIO(data))
        parts = blocks(document)
        for section in document.sections:
            for part in (section.header, section.footer):
                if not part.is_linked_to_previous:
                    parts.extend(p.text for p in part.paragraphs)
    except Exception as exc:
        detail = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
        raise ExtractionFailed(
            "corrupt_document",
            f"corrupt Word document ({detail or type(exc).__name__}): open it in Word or "
            "LibreOffice, save it again as .docx, and upload the new file",
        ) from exc
    return "\n".join(parts)


# -- DOC (Word 97-2003) ---------------------------------------------------------------------------


def _doc_text(data: bytes, options: ExtractOptions) -> str:
    import os
    import shutil
    import subprocess
    import tempfile

    program = shutil.which(options.antiword)
    if program is None:
        raise ExtractionFailed(
            "antiword_missing",
            "cannot read legacy Word (.doc) files: antiword is not installed on the worker "
            "(apt-get install antiword), then reprocess this document; or upload it as .docx "
            "or PDF",
        )
    handle, path = tempfile.mkstemp(suffix=".doc", prefix="jobdeck-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        try:
            done = subprocess.run(
                [program, "-w", "0", "-m", "UTF-8.txt", path],
                capture_output=True,
                timeout=options.antiword_timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise ExtractionFailed(
                "extraction_timeout",
                f"antiword took longer than {options.antiword_timeout:g} s on this .doc file: "
                "save it again as .docx or PDF and upload that",
            ) from None
    finally:
        os.unlink(path)
    said = done.stderr.decode("utf-8", "replace").replace(path, "the file").strip()
    if done.returncode != 0:
        if "password" in said.lower() or "encrypt" in said.lower():
            raise ExtractionFailed(
                "password_protected",
                "password-protected Word document: save a copy without the password and "
                "upload that",
            )
        raise ExtractionFailed(
            "corrupt_document",
            f"could not read the .doc file (antiword: {said[:200] or f'exit {done.returncode}'}):"
            " save it again as .docx or PDF and upload that",
        )
    return done.stdout.decode("utf-8", "replace")
