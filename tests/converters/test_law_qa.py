import json

# lawzhidao_filter.csv's shape: title,question,reply,is_best; question often empty, a quoted question
# may span lines, masks (**, ##) stay; then the broken rows a scraped dump holds.
LAWZHIDAO = """title,question,reply,is_best
被**打伤了怎么办？,,你好，可以报警处理，要求对方赔偿医疗费、误工费等损失。,1
被**打伤了怎么办？,,自己打回去。,0
欠款不还怎么办,"朋友借我##万元，
到期不还，怎么办？",可以向法院起诉，要求归还借款及利息。,1
欠款不还怎么办,"朋友借我##万元，
到期不还，怎么办？",先发律师函催告。,1
离婚孩子归谁,,一般两周岁以下随母亲,另外一个字段,1
劳动仲裁要钱吗,,不收费。,是
工伤怎么认定,,,1
,,没有问题的回答。,1
被**打伤了怎么办？,,你好，可以报警处理，要求对方赔偿医疗费、误工费等损失。,0
"""
HURT = "被**打伤了怎么办？"
LOAN = "朋友借我##万元，\n到期不还，怎么办？"


def lines(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def turns(record):
    """(user, assistant) of a ChatGLM3 record."""
    user, assistant = record["conversations"]
    assert (user["role"], assistant["role"]) == ("user", "assistant")
    return user["content"], assistant["content"]


def lawzhidao(tmp_path, text=LAWZHIDAO, encoding="utf-8"):
    path = tmp_path / "lawzhidao_filter.csv"
    path.write_bytes(text.encode(encoding))
    return path


def test_best_reply_per_question_as_chatglm3_with_broken_rows_rejected(lfd, tmp_path):
    rejects = tmp_path / "rejects.jsonl"
    code, _, err = lfd("convert", "law_qa", lawzhidao(tmp_path), "--out-dir", tmp_path, "--rejects", rejects)
    assert code == 0, err
    assert [turns(r) for r in lines(tmp_path / "law_qa_train.jsonl")] == [
        (HURT, "你好，可以报警处理，要求对方赔偿医疗费、误工费等损失。"),  # title, as question is empty
        (LOAN, "可以向法院起诉，要求归还借款及利息。"),  # the first of two best replies
    ]
    assert "train: read 9, wrote 2" in err and "skipped 2: not the best reply (--all-replies keeps it)" in err
    rejected = {r["location"]: r["reason"] for r in lines(rejects)}
    assert rejected == {
        "line 3": "not the best reply (--all-replies keeps it)",
        "line 6": "question already answered",  # a record spanning lines 6-7 is named by its first (issue 14)
        "line 8": "ragged row (5 fields, header has 4)",
        "line 9": "is_best is not 0 or 1",
        "line 10": "empty reply",
        "line 11": "empty question and title",
        "line 12": "not the best reply (--all-replies keeps it)",
    }
    entry = json.loads((tmp_path / "dataset_info.json").read_text(encoding="utf-8"))["law_qa_train"]
    assert entry["formatting"] == "sharegpt" and entry["columns"] == {"messages": "conversations"}
    assert (entry["tags"]["role_tag"], entry["tags"]["user_tag"], entry["tags"]["assistant_tag"]) == (
        "role", "user", "assistant")


def test_all_replies_keeps_each_distinct_reply_once(lfd, tmp_path):
    code, _, err = lfd("convert", "law_qa", lawzhidao(tmp_path), "--all-replies", "--format", "alpaca",
                       "--out-dir", tmp_path)
    assert code == 0, err
    assert [(r["instruction"], r["output"]) for r in lines(tmp_path / "law_qa_train.jsonl")] == [
        (HURT, "你好，可以报警处理，要求对方赔偿医疗费、误工费等损失。"),
        (HURT, "自己打回去。"),
        (LOAN, "可以向法院起诉，要求归还借款及利息。"),
        (LOAN, "先发律师函催告。"),
    ]
    assert "skipped 1: reply already given to this question" in err  # line 12 repeats line 2's reply


def test_deduplication_is_the_same_on_every_pass_of_the_pipeline(lfd, tmp_path):
    """--test-size and --limit read the input twice: a second pass must not see its own rows as repeats."""
    src = lawzhidao(tmp_path)
    code, _, err = lfd("convert", "law_qa", src, "--test-size", "1", "--out-dir", tmp_path / "held_out")
    assert code == 0, err
    train, test = (lines(tmp_path / "held_out" / f"law_qa_{split}.jsonl") for split in ("train", "test"))
    assert len(train) == len(test) == 1 and {turns(train[0])[0], turns(test[0])[0]} == {HURT, LOAN}
    assert "skipped 1: question already answered" in err
    code, _, err = lfd("convert", "law_qa", src, "--limit", "1", "--out-dir", tmp_path / "limited")
    assert code == 0 and "wrote 1" in err and "skipped 1: not sampled (--limit)" in err


def test_gb18030_file_and_a_file_without_the_columns(lfd, tmp_path):
    code, _, err = lfd("convert", "law_qa", lawzhidao(tmp_path, encoding="gb18030"), "--out-dir", tmp_path)
    assert code == 0 and "wrote 2" in err
    other = tmp_path / "qa.csv"
    other.write_text("question,answer\n欠款不还怎么办,起诉\n", encoding="utf-8")
    code, _, err = lfd("convert", "law_qa", other, "--out-dir", tmp_path)
    assert code == 1 and "qa.csv: header row: header has no title/question/reply/is_best columns" in err
