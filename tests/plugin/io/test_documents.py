"""A knowledge base's documents: the files a KB path holds, their cited names, and each kind's exact text."""

import random
from pathlib import Path

import pytest
from llamafactory_domains.plugin.errors import UserError
from llamafactory_domains.plugin.io.documents import (
    DOCUMENT_SUFFIXES,
    Document,
    document_files,
    load_documents,
    read_document,
)

CJK_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
ARTICLE = "第十条　药品注册证书有效期为五年。"
COLD = "第十一条　冷库温度控制在二至十摄氏度。"


def write_docx(path: Path) -> Path:
    from docx import Document as NewDocument

    document = NewDocument()
    document.add_paragraph("药品经营质量管理规范")
    document.add_paragraph(ARTICLE)
    table = document.add_table(rows=3, cols=3)
    for r, row in enumerate([["库房", "温度", "备注"], ["冷库", "2-10℃", ""], ["阴凉库", "不超过20℃", "避光\n防潮"]]):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    document.add_paragraph("")  # an empty paragraph: no line
    document.add_paragraph(COLD)
    document.save(path)
    return path


def write_pdf(path: Path, pages: list[str], password: str | None = None) -> Path:
    from fpdf import FPDF

    pdf = FPDF()
    if not CJK_FONT.exists():
        pytest.skip(f"no CJK font at {CJK_FONT} (fonts-wqy-microhei) to write a Chinese PDF")
    pdf.add_font("wqy", "", str(CJK_FONT))
    pdf.set_font("wqy", size=12)
    for text in pages:
        pdf.add_page()
        if text:
            pdf.cell(text=text)
    if password:
        pdf.set_encryption(owner_password="owner", user_password=password)
    path.write_bytes(bytes(pdf.output()))
    return path


def write_xlsx(path: Path) -> Path:
    from openpyxl import Workbook

    book = Workbook()
    first = book.active
    first.title = "储存"
    first.append(["库房", "温度"])
    first.append(["冷库", "2-10℃"])
    first.append([None, None])  # an empty row: no line
    first.append(["常温库", 30, None])
    book.create_sheet("处方").append(["急诊处方", "不超过三天的用量"])
    book.create_sheet("空表")  # a sheet without rows: not named
    book.save(path)
    return path


def test_the_suffixes_read():
    assert DOCUMENT_SUFFIXES == (".txt", ".md", ".markdown", ".docx", ".pdf", ".xlsx", ".xlsm", ".csv")


def test_text_files_utf8_and_gb18030(tmp_path):
    (tmp_path / "a.txt").write_bytes(("\ufeff" + ARTICLE).encode("utf-8"))
    (tmp_path / "b.md").write_bytes(COLD.encode("gb18030"))
    assert read_document(tmp_path / "a.txt") == ARTICLE
    assert read_document(tmp_path / "b.md") == COLD


def test_docx_paragraphs_and_tables_in_body_order(tmp_path):
    assert read_document(write_docx(tmp_path / "规范.docx")) == (
        "药品经营质量管理规范\n" + ARTICLE + "\n库房\t温度\t备注\n冷库\t2-10℃\n阴凉库\t不超过20℃\t避光 防潮\n" + COLD)


def test_pdf_pages_joined_by_newlines_with_chinese_text(tmp_path):
    path = write_pdf(tmp_path / "注册.pdf", [ARTICLE, "第二页：冷库温度2至10摄氏度"])
    assert read_document(path) == ARTICLE + "\n第二页：冷库温度2至10摄氏度"


def test_xlsx_every_sheet_with_its_name(tmp_path):
    assert read_document(write_xlsx(tmp_path / "表.xlsx")) == (
        "储存\n库房\t温度\n冷库\t2-10℃\n常温库\t30\n处方\n急诊处方\t不超过三天的用量")


def test_gb18030_csv_rows_joined_by_tabs(tmp_path):
    path = tmp_path / "目录.csv"
    path.write_bytes('品名,剂型,说明\n阿莫西林,胶囊,"饭后服用,\n每日三次"\n,,\n布洛芬,片剂,\n'.encode("gb18030"))
    assert read_document(path) == "品名\t剂型\t说明\n阿莫西林\t胶囊\t饭后服用, 每日三次\n布洛芬\t片剂"


@pytest.mark.parametrize("name, content, message", [
    ("a.txt", b"  \n\t", "a.txt: the knowledge-base file is empty; fill it or leave it out of --kb"),
    ("a.txt", b"\x89PNG\r\n\x1a\n\x00\x00", "a.txt: a binary file, not text"),
    ("a.docx", b"PK\x03\x04 cut off", "a.docx: not a readable Word document"),
    ("a.docx", b"not a zip at all", "a.docx: not a readable Word document (not a zip archive)"),
    ("a.docx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), "a.docx: an old-format or password-protected Word"),
    ("a.xlsx", b"PK\x03\x04\x14\x00", "a.xlsx: not a readable Excel workbook"),
    ("a.pdf", b"%PDF-1.4\n1 0 obj", "a.pdf: not a readable PDF"),
    ("a.csv", b"a,b\n\x81\x30\xff,c\n", "a.csv: neither UTF-8 nor GB18030 text"),
    ("a.csv", b"\xff\xfe\x00\xd8", "a.csv: cannot decode as utf-16 at byte 2; re-save it as UTF-8"),
    ("a.csv", b",,\n\n", "a.csv: the knowledge-base file is empty"),
    ("a.doc", b"\xd0\xcf\x11\xe0", "a.doc: an old Word .doc file, which is not read; open it in Word (or LibreOffice) "
                                   "and save it as .docx"),
    ("a.xls", b"\xd0\xcf\x11\xe0", "save it as .xlsx"),
])
def test_bad_files_are_one_line_errors_naming_them(tmp_path, name, content, message):
    (tmp_path / name).write_bytes(content)
    with pytest.raises(UserError) as err:
        read_document(tmp_path / name)
    assert message in str(err.value) and str(tmp_path / name) in str(err.value)
    assert "\n" not in str(err.value)


def test_textless_encrypted_and_empty_office_files(tmp_path):
    with pytest.raises(UserError, match=r"the PDF has no extractable text \(1 page\(s\), scanned images\?\); OCR it"):
        read_document(write_pdf(tmp_path / "scan.pdf", [""]))
    with pytest.raises(UserError, match="an encrypted .password-protected. PDF; remove the password"):
        read_document(write_pdf(tmp_path / "locked.pdf", [ARTICLE], password="secret"))
    from docx import Document as NewDocument
    from openpyxl import Workbook

    NewDocument().save(tmp_path / "blank.docx")
    Workbook().save(tmp_path / "blank.xlsx")
    for name in ("blank.docx", "blank.xlsx"):
        with pytest.raises(UserError, match=f"{name}: the knowledge-base file is empty"):
            read_document(tmp_path / name)


def test_a_pdf_with_only_an_owner_password_is_read(tmp_path):
    assert read_document(write_pdf(tmp_path / "restricted.pdf", [ARTICLE], password="")) == ARTICLE


@pytest.mark.parametrize("suffix", DOCUMENT_SUFFIXES)
def test_random_bytes_never_raise_anything_but_a_user_error(tmp_path, suffix):
    rng = random.Random(suffix)
    heads = {".docx": b"PK\x03\x04", ".xlsx": b"PK\x03\x04", ".xlsm": b"PK\x03\x04", ".pdf": b"%PDF-1.7\n"}
    for number in range(6):
        data = heads.get(suffix, b"")[: number % 2 * 10] + rng.randbytes(rng.randrange(0, 3000))
        path = tmp_path / f"f{number}{suffix}"
        path.write_bytes(data)
        try:
            assert isinstance(read_document(path), str)
        except UserError as err:
            assert "\n" not in str(err) and str(path) in str(err)


def test_damaged_real_files_are_one_line_errors(tmp_path):
    sources = [write_docx(tmp_path / "a.docx"), write_xlsx(tmp_path / "a.xlsx"), write_pdf(tmp_path / "a.pdf", [ARTICLE])]
    for source in sources:
        data = source.read_bytes()
        for cut in (len(data) // 3, len(data) // 2, len(data) - 30):
            path = tmp_path / f"cut{cut}{source.suffix}"
            path.write_bytes(data[:cut])
            try:
                read_document(path)
            except UserError as err:
                assert "\n" not in str(err) and str(path) in str(err)


def test_folder_files_sorted_hidden_and_lock_files_left_out(tmp_path):
    folder = tmp_path / "kb"
    (folder / "章节").mkdir(parents=True)
    (folder / ".git").mkdir()
    for name in ("b.pdf", "a.txt", "章节/c.docx", "~$c.docx", ".draft.md", ".git/x.txt", "notes.pptx", "old.doc"):
        (folder / name).write_bytes(b"x")
    assert [name for _, name in document_files([folder])] == ["a.txt", "b.pdf", "old.doc", "章节/c.docx"]


def chatchat_kb(folder: Path, files: dict[str, str]) -> Path:
    (folder / "vector_store" / "bge").mkdir(parents=True)
    (folder / "vector_store" / "bge" / "index.txt").write_text("不读", encoding="utf-8")
    for name, text in files.items():
        (folder / "content" / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / "content" / name).write_text(text, encoding="utf-8")
    return folder


def test_chatchat_kb_folder_is_read_through_its_content(tmp_path):
    kb = chatchat_kb(tmp_path / "knowledge_base" / "药事法规", {"注册.txt": ARTICLE, "储存/冷库.md": COLD})
    (kb / "info.db").write_bytes(b"SQLite format 3\0")
    assert [name for _, name in document_files([kb])] == ["储存/冷库.md", "注册.txt"]
    docs = load_documents([kb])
    assert docs == [Document("储存/冷库.md", COLD), Document("注册.txt", ARTICLE)]


def test_chatchat_root_names_each_file_after_its_kb(tmp_path):
    root = tmp_path / "knowledge_base"
    chatchat_kb(root / "samples", {"readme.md": "示例"})
    chatchat_kb(root / "药事法规", {"注册.txt": ARTICLE})
    (root / "info.db").write_bytes(b"SQLite format 3\0")
    assert [name for _, name in document_files([root])] == ["samples/readme.md", "药事法规/注册.txt"]
    assert load_documents([root])[1] == Document("药事法规/注册.txt", ARTICLE)


@pytest.mark.parametrize("make, message", [
    (lambda p: p, "no such file or folder; check the path"),
    (lambda p: p.mkdir() or p, "the folder holds no readable documents (.txt .md .markdown .docx .pdf .xlsx .xlsm .csv)"),
    (lambda p: (p.mkdir(), (p / "a.pptx").write_bytes(b"x"))[0] or p, "the folder holds no readable documents"),
    (lambda p: p.with_suffix(".pptx").write_bytes(b"x") and p.with_suffix(".pptx"), "not a document this reads (.pptx)"),
    (lambda p: p.with_suffix(".xls").write_bytes(b"x") and p.with_suffix(".xls"), "an old Excel .xls file"),
])
def test_path_errors(tmp_path, make, message):
    path = make(tmp_path / "kb")
    with pytest.raises(UserError) as err:
        document_files([path])
    assert message in str(err.value) and f"--kb {path}:" in str(err.value) and "\n" not in str(err.value)


def test_problems_list_collects_bad_files_and_loads_the_rest(tmp_path):
    folder = tmp_path / "kb"
    folder.mkdir()
    (folder / "a.txt").write_text(ARTICLE, encoding="utf-8")
    (folder / "b.docx").write_bytes(b"PK\x03\x04 cut")
    (folder / "c.txt").write_bytes(b"")
    (folder / "d.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    (folder / "e.md").write_text(COLD, encoding="utf-8")
    problems: list[str] = []
    assert load_documents([folder], problems) == [Document("a.txt", ARTICLE), Document("e.md", COLD)]
    assert [p.split(": ", 1)[0] for p in problems] == [str(folder / n) for n in ("b.docx", "c.txt", "d.xls")]
    assert "empty" in problems[1] and "save it as .xlsx" in problems[2]
    with pytest.raises(UserError, match="b.docx: not a readable Word document"):
        load_documents([folder])


def test_a_name_cited_twice_becomes_the_full_path(tmp_path):
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "a.txt").write_text(ARTICLE, encoding="utf-8")
    (tmp_path / "a.txt").write_text(COLD, encoding="utf-8")
    assert [d.name for d in load_documents([tmp_path / "x", tmp_path / "a.txt"])] == ["a.txt", str(tmp_path / "a.txt")]

