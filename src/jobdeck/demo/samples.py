"""Sample expert documents for the demo: real PDFs and DOCX files made on the spot, plus a
corrupt PDF and a password-protected one, so the pipeline's failures show up too."""

from __future__ import annotations

import io
import random

SKILLS = [
    "GST appeals",
    "transfer pricing",
    "customs valuation",
    "forensic accounting",
    "input tax credit audits",
    "anti-profiteering",
    "e-invoicing compliance",
    "export refunds",
    "service tax transition",
    "valuation of intangibles",
]


def simple_pdf(lines: list[str]) -> bytes:
    """A one-page PDF with Helvetica text: small, valid, and extractable by pypdf."""
    text = " ".join(f"({_escape(line)}) Tj 0 -16 Td" for line in lines)
    stream = f"BT /F1 11 Tf 56 780 Td {text} ET".encode("latin-1", "replace")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{number} 0 obj\n".encode() + body + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for offset in offsets:
        out.write(f"{offset:010d} 00000 n \n".encode())
    out.write(
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return out.getvalue()


def _escape(line: str) -> str:
    return line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def cv_lines(name: str, rng: random.Random) -> list[str]:
    skills = rng.sample(SKILLS, 3)
    return [
        f"Curriculum vitae: {name}",
        "",
        "Expertise: " + ", ".join(skills),
        f"{rng.randint(5, 25)} years of practice before GST tribunals and High Courts.",
        "Certifications: Chartered Accountant; Diploma in International Taxation.",
    ]


def cv_pdf(name: str, rng: random.Random) -> bytes:
    return simple_pdf(cv_lines(name, rng))


def certificate_docx(name: str, rng: random.Random) -> bytes:
    import docx

    document = docx.Document()
    document.add_heading(f"Certificate of expertise: {name}", level=1)
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Area", rng.choice(SKILLS)
    table.cell(1, 0).text, table.cell(1, 1).text = "Issued by", "Institute of Tax Practitioners"
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def encrypted_pdf(name: str, rng: random.Random) -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(cv_pdf(name, rng))))
    writer.encrypt("s3cret")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def corrupt_pdf() -> bytes:
    """Starts like a PDF, then stops: what an interrupted upload leaves behind."""
    return b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R\n" + b"\x00" * 64


def sample_upload(rng: random.Random, name: str) -> tuple[str, bytes]:
    """A realistic mix: mostly good PDFs and DOCX, now and then a broken one."""
    roll = rng.random()
    if roll < 0.04:
        return "scan-interrupted.pdf", corrupt_pdf()
    if roll < 0.08:
        return "locked-cv.pdf", encrypted_pdf(name, rng)
    if roll < 0.45:
        return "certificate.docx", certificate_docx(name, rng)
    return "cv.pdf", cv_pdf(name, rng)
