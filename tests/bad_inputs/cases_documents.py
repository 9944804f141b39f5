"""Knowledge-base documents of `lfd convert pharma_rag --kb` (plugin/io/documents.py): damaged Word and
PDF files, a PDF without a text layer (a scan), an old .doc, and an empty folder. Files start with ``doc_``."""

from __future__ import annotations

from pathlib import Path

from corpus import KB, PHARMA, PHARMA_HEADER, F, case, convert, table, zipped

QA = table(PHARMA_HEADER, PHARMA).encode("utf-8")


def blank_pdf() -> bytes:
    """A valid one-page PDF that draws nothing: what a scan without OCR gives pypdf (no text to extract)."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << >> >>",
               b"<< /Length 0 >>\nstream\n\nendstream"]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def empty_folder(target: Path) -> None:
    """A --kb folder with nothing in it (a KB not copied yet)."""
    target.mkdir(parents=True, exist_ok=True)


GENERATORS = {"doc_empty_kb_folder": empty_folder}


def kb_case(case_id: str, kb_name: str, kb_data: bytes, status: int, expect: str, why: str) -> dict:
    return case(case_id, QA, convert("pharma_rag", F + "doc_qa.csv", "--kb", F + kb_name), status, expect, why,
                extra_files={kb_name: kb_data})


CASES = [
    kb_case("doc_pharma_rag_corrupt_docx", "doc_kb_cut.docx",
            zipped({"[Content_Types].xml": b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/packa',
                    "word/document.xml": b"<w:document"}),
            1, "doc_kb_cut.docx: not a readable Word document", "a .docx whose package parts are cut off"),
    kb_case("doc_pharma_rag_docx_not_zip", "doc_kb_text.docx", KB.encode("utf-8"), 1,
            "doc_kb_text.docx: not a readable Word document (not a zip archive)", "a text file named .docx"),
    kb_case("doc_pharma_rag_corrupt_pdf", "doc_kb_cut.pdf", blank_pdf()[:60], 1, "doc_kb_cut.pdf: not a readable PDF",
            "a PDF cut off after its first object"),
    kb_case("doc_pharma_rag_textless_pdf", "doc_kb_scan.pdf", blank_pdf(), 1,
            "doc_kb_scan.pdf: the PDF has no extractable text (1 page(s), scanned images?); OCR it first",
            "a PDF without a text layer, as a scan is"),
    kb_case("doc_pharma_rag_old_doc", "doc_kb_old.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504), 1,
            "doc_kb_old.doc: an old Word .doc file, which is not read; open it in Word (or LibreOffice) and save it "
            "as .docx", "a Word 97-2003 .doc"),
    kb_case("doc_pharma_rag_csv_kb", "doc_kb.csv", ("条款,内容\n" + KB.replace(" ", ",")).encode("gb18030"), 0,
            "train: read 2", "a GB18030 CSV as the knowledge base: its rows are the text"),
    case("doc_pharma_rag_empty_kb_folder", QA, convert("pharma_rag", F + "doc_qa.csv", "--kb", "{tmp}/doc_kb_empty"), 1,
         "doc_kb_empty: the folder holds no readable documents (.txt .md .markdown .docx .pdf .xlsx .xlsm .csv)",
         "an empty --kb folder", generate="doc_empty_kb_folder"),
]
