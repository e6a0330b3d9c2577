"""Real documents for the tests, made on the spot: PDFs with fpdf2 (encrypted with pypdf),
DOCX with python-docx. The legacy .doc is a committed fixture (see fixtures/README.md)."""

from __future__ import annotations

import io
import random
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"


def pdf(pages: list[str]) -> bytes:
    """A text PDF, one string per page."""
    from fpdf import FPDF

    document = FPDF()
    document.set_font("helvetica", size=12)
    for text in pages:
        document.add_page()
        document.multi_cell(0, 8, text)
    return bytes(document.output())


def multi_page_pdf(keyword: str = "zymurgist") -> bytes:
    """Three pages; ``keyword`` appears on the second page only."""
    return pdf(
        [
            "Curriculum vitae of Dr. Amara Lindqvist. Structural engineer, bridge failures.",
            f"Publications and engagements. Court-appointed {keyword} in a brewing dispute.",
            "References available on request. Member of the Institution of Civil Engineers.",
        ]
    )


def image_only_pdf() -> bytes:
    """A scan-like PDF: one page holding a picture of noise and no text layer."""
    from fpdf import FPDF
    from PIL import Image

    rng = random.Random(7)
    picture = Image.new("L", (200, 260))
    picture.putdata([rng.randrange(256) for _ in range(200 * 260)])
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    buffer.seek(0)
    document = FPDF()
    document.add_page()
    document.image(buffer, x=10, y=10, w=180)
    return bytes(document.output())


def encrypted_pdf(password: str = "s3cret") -> bytes:
    """A text PDF that opens only with a password (AES-256)."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf(["Confidential expert report."]))))
    writer.encrypt(user_password=password, owner_password=password + "-owner", algorithm="AES-256")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def corrupt_pdf() -> bytes:
    """A PDF header followed by bytes that are no PDF at all (a broken download)."""
    rng = random.Random(11)
    return b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + bytes(rng.randrange(256) for _ in range(4000))


def docx_with_tables(keyword: str = "palynologist") -> bytes:
    """A DOCX whose ``keyword`` is only inside a table cell (and a nested table)."""
    import docx

    document = docx.Document()
    document.add_heading("Expert profile: Tomasz Wierzbicki", level=1)
    document.add_paragraph("Environmental scientist; soil and sediment analysis.")
    table = document.add_table(rows=3, cols=2)
    table.cell(0, 0).text = "Year"
    table.cell(0, 1).text = "Role"
    table.cell(1, 0).text = "2021"
    table.cell(1, 1).text = f"Lead {keyword} for the river delta inquiry"
    table.cell(2, 0).text = "2023"
    nested = table.cell(2, 1).add_table(rows=1, cols=2)
    nested.cell(0, 0).text = "Pollen survey"
    nested.cell(0, 1).text = "Quaternary sediments"
    document.add_paragraph("Closing paragraph after the table.")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def legacy_doc() -> bytes:
    """A Word 97-2003 .doc whose text holds the keyword "quillwort"."""
    return (FIXTURES / "legacy_cv.doc").read_bytes()


def text_file() -> bytes:
    return b"Plain notes: expert in maritime salvage law.\n"
