"""Extraction of real files, format sniffing, failure reasons, chunking and the extractor pool."""

from __future__ import annotations

import pytest

from jobdeck.contrib.documents.extract import (
    DOCX,
    PDF,
    ExtractionFailed,
    ExtractOptions,
    UnsupportedFormat,
    clean_text,
    extract,
    sniff,
)
from jobdeck.contrib.documents.extractors import ChildTraceback, ExtractorPool
from jobdeck.contrib.documents.index import Chunker, query_terms, render_snippet
from jobdeck.contrib.documents.pipeline import sanitize_filename
from tests.documents import files


def failure(data: bytes, options: ExtractOptions | None = None) -> ExtractionFailed:
    with pytest.raises(ExtractionFailed) as caught:
        extract(data, options)
    return caught.value


def test_multi_page_pdf_gives_every_page() -> None:
    got = extract(files.multi_page_pdf("zymurgist"))
    assert (got.kind, got.content_type, got.pages) == ("pdf", PDF, 3)
    assert "Amara Lindqvist" in got.text
    assert "zymurgist" in got.text
    assert "Institution of Civil Engineers" in got.text


def test_docx_tables_nested_tables_and_paragraphs_in_order() -> None:
    got = extract(files.docx_with_tables("palynologist"))
    assert got.kind == "docx" and got.content_type == DOCX
    lines = got.text.splitlines()
    assert lines[0] == "Expert profile: Tomasz Wierzbicki"
    assert "Year | Role" in lines
    assert "2021 | Lead palynologist for the river delta inquiry" in lines
    assert "2023 | Pollen survey | Quaternary sediments" in lines
    assert lines[-1] == "Closing paragraph after the table."


def test_legacy_doc_through_antiword() -> None:
    got = extract(files.legacy_doc())
    assert got.kind == "doc"
    assert "quillwort" in got.text
    assert "Aquifer pollution arbitration" in got.text


def test_doc_without_antiword_says_what_to_install() -> None:
    failed = failure(files.legacy_doc(), ExtractOptions(antiword="antiword-not-installed-here"))
    assert failed.code == "antiword_missing"
    assert "antiword is not installed" in failed.reason
    assert "apt-get install antiword" in failed.reason


@pytest.mark.parametrize(
    ("make", "code", "start"),
    [
        (files.corrupt_pdf, "corrupt_pdf", "corrupt PDF"),
        (files.encrypted_pdf, "password_protected", "password-protected PDF"),
        (files.image_only_pdf, "no_text", "no extractable text"),
        (files.text_file, "unsupported_format", "unsupported format: plain text"),
    ],
)
def test_failures_have_reasons_people_can_act_on(make: object, code: str, start: str) -> None:
    failed = failure(make())  # type: ignore[operator]
    assert failed.code == code
    assert failed.reason.startswith(start)
    assert ":" in failed.reason  # reason, then what to do


def test_unsupported_is_its_own_class() -> None:
    with pytest.raises(UnsupportedFormat) as caught:
        extract(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100)
    assert "PNG image" in caught.value.reason


def test_size_limit() -> None:
    failed = failure(files.multi_page_pdf(), ExtractOptions(max_bytes=100))
    assert failed.code == "too_large"
    assert failed.reason.startswith("file too large")


def test_empty_file() -> None:
    assert failure(b"").code == "no_text"


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (files.multi_page_pdf(), "pdf"),
        (files.docx_with_tables(), "docx"),
        (files.legacy_doc(), "doc"),
        (b"junk before the header %PDF-1.4 ...", "pdf"),
        (files.text_file(), None),
        (b"{\\rtf1\\ansi hello}", None),
        (b"\xff\xd8\xff\xe0 jpeg", None),
        (bytes(range(256)), None),
    ],
)
def test_sniffing_reads_content_not_names(data: bytes, kind: str | None) -> None:
    assert sniff(data).kind == kind


def test_clean_text_removes_nul_and_marks() -> None:
    assert clean_text("a\x00b\ue000c \t d\r\n\n\n\ne") == "a b c d\n\ne"


def test_sanitize_filename() -> None:
    assert sanitize_filename("../../etc/passwd") == "passwd"
    assert sanitize_filename("C:\\Users\\x\\My CV (final).pdf") == "My CV (final).pdf"
    assert sanitize_filename("evil\x00name<script>.pdf") == "evilname_script_.pdf"
    assert sanitize_filename("...") == "document"
    long = sanitize_filename("a" * 400 + ".docx")
    assert long.endswith(".docx") and len(long) <= 150


def test_chunker_overlaps_and_covers_every_word() -> None:
    words = [f"w{i}" for i in range(1000)]
    chunks = list(Chunker(words=100, overlap=20).split(" ".join(words)))
    assert all(len(c.split()) <= 100 for c in chunks)
    assert set(" ".join(chunks).split()) == set(words)
    assert chunks[0].split()[-20:] == chunks[1].split()[:20]
    assert list(Chunker().split("")) == []


def test_query_terms_and_snippet_rendering() -> None:
    assert query_terms('Hydro-geology "AND" <b>') == ["hydro", "geology", "and", "b"]
    plain, marked = render_snippet("x <y> \ue000word\ue001 & z")
    assert plain == "x <y> word & z"
    assert marked == "x &lt;y&gt; <mark>word</mark> &amp; z"


def test_pool_runs_in_children_and_carries_their_traceback() -> None:
    pool = ExtractorPool(processes=1, timeout=30)
    try:
        assert "zymurgist" in pool.run(files.multi_page_pdf(), ExtractOptions()).text
        with pytest.raises(ExtractionFailed) as caught:
            pool.run(files.corrupt_pdf(), ExtractOptions())
        assert caught.value.code == "corrupt_pdf"
        assert isinstance(caught.value.__cause__, ChildTraceback)
        assert "pypdf" in str(caught.value.__cause__)
    finally:
        pool.close()


def test_pool_kills_a_child_past_its_timeout_and_replaces_it() -> None:
    pool = ExtractorPool(processes=1, timeout=0.0001)
    try:
        with pytest.raises(ExtractionFailed) as caught:
            pool.run(files.multi_page_pdf(), ExtractOptions())
        assert caught.value.code == "extraction_timeout"
        pool.timeout = 30
        assert pool.run(files.multi_page_pdf(), ExtractOptions()).pages == 3
    finally:
        pool.close()


def test_what_pypdf_logs_in_a_child_is_formatted_like_the_workers_lines() -> None:
    import re
    import subprocess
    import sys

    script = (
        "from jobdeck.logs import setup_logging\n"
        "from jobdeck.contrib.documents.extract import ExtractOptions\n"
        "from jobdeck.contrib.documents.extractors import ExtractorPool\n"
        "if __name__ == '__main__':\n"
        "    setup_logging('INFO')\n"
        "    pool = ExtractorPool(processes=1, timeout=30)\n"
        "    try:\n"
        "        pool.run(b'%PDF-1.4\\n1 0 obj<<>>endobj\\n', ExtractOptions())\n"
        "    except Exception as exc:\n"
        "        print(type(exc).__name__)\n"
        "    pool.close()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "ExtractionFailed"
    lines = done.stderr.splitlines()
    assert any("pypdf" in line for line in lines)  # it did log about the damaged file
    stamped = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} [A-Z]+ +[\w.]+: ")
    assert [line for line in lines if not stamped.match(line)] == []


def test_ctrl_c_in_the_terminal_leaves_extractor_children_to_their_parent() -> None:
    import os
    import signal

    pool = ExtractorPool(processes=1, timeout=30)
    try:
        assert pool.run(files.multi_page_pdf(), ExtractOptions()).pages == 3
        (child,) = pool._idle
        os.kill(child.process.pid, signal.SIGINT)  # what Ctrl-C sends the process group
        assert pool.run(files.multi_page_pdf(), ExtractOptions()).pages == 3
        assert pool._idle == [child] and child.process.is_alive()
    finally:
        pool.close()
