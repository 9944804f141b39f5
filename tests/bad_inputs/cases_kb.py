"""`lfd kb` (plugin/kb/): named knowledge bases and the assistant on bad input — an unknown base, an empty or
unreadable set of files, a changed file, a bad name, a question with nowhere to go. Files start with ``kb_``."""

from __future__ import annotations

from pathlib import Path

from cases_documents import blank_pdf
from corpus import KB, F, case, zipped

HOME = "{tmp}/kb_home"
GOOD = KB.encode("utf-8")
CUT_DOCX = zipped({"[Content_Types].xml": b'<?xml version="1.0"?><Types', "word/document.xml": b"<w:document"})


def kb(*args: str) -> list[str]:
    return ["kb", *args, "--kb-home", HOME]


BUILT = [kb("build", "regs", F + "kb_regs.txt")]


def empty_folder(target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)


def changed_folder(target: Path) -> None:
    """A folder holding another version of the base's kb_regs.txt (the same cited name)."""
    target.mkdir(parents=True, exist_ok=True)
    (target / "kb_regs.txt").write_text("第一条 完全不同的内容。\n", encoding="utf-8")


GENERATORS = {"kb_empty_folder": empty_folder, "kb_changed_folder": changed_folder}

CASES = [
    case("kb_build_skips_unreadable_files", GOOD, kb("build", "regs", F + "kb_regs.txt", F + "kb_cut.docx",
                                                    F + "kb_scan.pdf"), 0,
         "1 added, 2 skipped", "a damaged .docx and a scanned .pdf beside a good file: one line each, the rest indexed",
         file="kb_regs.txt", extra_files={"kb_cut.docx": CUT_DOCX, "kb_scan.pdf": blank_pdf()}),
    case("kb_build_nothing_readable", CUT_DOCX, kb("build", "regs", F + "kb_only_cut.docx"), 1,
         "no document could be read, nothing was built: ", "every file unreadable: refused, no base made",
         file="kb_only_cut.docx"),
    case("kb_build_empty_folder", None, kb("build", "regs", "{tmp}/kb_empty"), 1,
         "kb_empty: the folder holds no readable documents", "an empty folder", generate="kb_empty_folder"),
    case("kb_build_bad_name", GOOD, kb("build", "../regs", F + "kb_regs.txt"), 1,
         "knowledge base name '../regs': use letters, digits", "a name that is a path", file="kb_regs.txt"),
    case("kb_build_existing", GOOD, kb("build", "regs", F + "kb_regs.txt"), 1,
         "knowledge base 'regs' already exists", "building over a base without --force", file="kb_regs.txt",
         setup=BUILT),
    case("kb_ask_unknown_base", GOOD, kb("ask", "reg", "有效期几年？", "--api-base", "http://127.0.0.1:9/v1"), 1,
         "no knowledge base 'reg' in", "a misspelt base: did you mean", file="kb_regs.txt", setup=BUILT),
    case("kb_ask_endpoint_down", GOOD, kb("ask", "regs", "药品经营许可证的有效期是几年？", "--api-base",
                                         "http://127.0.0.1:9/v1", "--timeout", "5"), 1,
         "cannot reach http://127.0.0.1:9/v1", "an endpoint nobody listens on", file="kb_regs.txt", setup=BUILT),
    case("kb_ask_no_model", GOOD, kb("ask", "regs", "药品经营许可证的有效期是几年？"), 1,
         "no model: pass --recipe", "neither --recipe nor --api-base", file="kb_regs.txt", setup=BUILT),
    case("kb_ask_missing_recipe", GOOD, kb("ask", "regs", "有效期几年？", "--recipe", "{tmp}/nope.yaml"), 1,
         "nope.yaml: no such file", "a recipe path that does not exist", file="kb_regs.txt", setup=BUILT),
    case("kb_ask_empty_question", GOOD, kb("ask", "regs", "  ", "--api-base", "http://127.0.0.1:9/v1"), 1,
         "the question is empty", "a blank question", file="kb_regs.txt", setup=BUILT),
    case("kb_add_changed_file", GOOD, kb("add", "regs", "{tmp}/kb_changed"), 1,
         "with other content; pass --replace", "a file of the same name, changed, without --replace",
         file="kb_regs.txt", generate="kb_changed_folder", setup=BUILT),
    case("kb_remove_unknown_document", GOOD, kb("remove", "regs", "--document", "kb_reg.txt"), 1,
         "has no document 'kb_reg.txt'; did you mean 'kb_regs.txt'", "a misspelt document", file="kb_regs.txt",
         setup=BUILT),
]
