"""The board `lfd webui` launches: LLaMA-Factory's own UI, built in-process once, with our two adjustments
(greedy predictions by default, JSON previews); the greedy run's arguments parsed and run by LLaMA-Factory."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from llamafactory_domains.plugin import board_launch
from llamafactory_domains.plugin.commands.demo import QUIET_ENV
from llamafactory_domains.plugin.errors import UserError

CLI = Path(sys.executable).with_name("llamafactory-cli")
ROWS = [{"instruction": "规范化", "input": f"术语{i}", "output": "慢性乙型病毒性肝炎"} for i in range(3)]


@pytest.fixture(scope="module")
def ui(tmp_path_factory):
    """``board_launch.build()`` in a fresh board folder (create_ui() writes llamaboard_cache/ in its cwd).

    What building it changes in this process is put back afterwards, for the tests that follow: the two
    patches, the environment, and transformers' log level (LLaMA-Factory raises it to INFO)."""
    import gradio as gr
    import transformers.utils.logging as hf_logging
    from llamafactory.webui import common

    home, before, clean, postprocess = tmp_path_factory.mktemp("board"), Path.cwd(), common._clean_cmd, \
        gr.JSON.postprocess
    environment, verbosity = dict(os.environ), hf_logging.get_verbosity()
    os.chdir(home)
    try:
        demo = board_launch.build()  # ~25 s: imports torch, transformers, gradio
    finally:
        os.chdir(before)
    engine = board_launch.find_engine(demo)
    yield {"demo": demo, "engine": engine, "get": engine.manager.get_elem_by_id, "home": home}
    common._clean_cmd, gr.JSON.postprocess = clean, postprocess
    os.environ.clear()
    os.environ.update(environment)
    hf_logging.set_verbosity(verbosity)


def board_data(ui, data_dir: Path, model: str = "/models/tiny", **values) -> dict:
    """The input mapping gradio hands the Evaluate tab's buttons: every element's start value, with a model
    and the med_norm_test dataset chosen (what the browser test clicks)."""
    get = ui["get"]
    data = {elem: getattr(elem, "value", None) for elem in ui["engine"].manager.get_elem_list()}
    chosen = {"top.lang": "en", "top.model_name": "Custom", "top.model_path": model, "top.template": "qwen",
              "eval.dataset_dir": str(data_dir), "eval.dataset": ["med_norm_test"], "eval.output_dir": "eval_test",
              **values}
    data.update({get(elem_id): value for elem_id, value in chosen.items()})
    return data


def preview(ui, data) -> str:
    return list(ui["engine"].runner.preview_eval(data))[-1][ui["get"]("eval.output_box")]


def test_the_temperature_starts_at_zero_and_says_greedy(ui):
    temperature = ui["get"]("eval.temperature")
    props = next(c["props"] for c in ui["demo"].get_config_file()["components"] if c["id"] == temperature._id)
    assert (props["minimum"], props["value"], props["maximum"]) == (0, 0, 1.5)  # what the page starts with
    assert "greedy" in props["info"] and "do_sample: false" in props["info"]
    assert temperature.preprocess(0) == 0  # the server accepts 0 (Slider.preprocess checks the bounds)


def test_the_previewed_command_is_greedy_at_zero_and_samples_above(ui, tmp_path):
    greedy = preview(ui, board_data(ui, tmp_path))
    assert "--do_sample False" in greedy and "--temperature" not in greedy and "--top_p" not in greedy
    sampled = preview(ui, board_data(ui, tmp_path, **{"eval.temperature": 0.6}))
    assert "--do_sample True" in sampled and "--temperature 0.6" in sampled and "--top_p 0.7" in sampled


def test_a_board_run_without_the_adjustment_would_sample(ui, tmp_path):
    """Why both wrappers are needed: LLaMA-Factory's own parse gives temperature 0 with do_sample left out
    (its default: true), and its _clean_cmd drops do_sample: false from the written arguments."""
    from llamafactory.webui import common
    from llamafactory.webui.runner import Runner

    args = Runner._parse_eval_args(ui["engine"].runner, board_data(ui, tmp_path))
    assert args["temperature"] == 0 and "do_sample" not in args
    assert common._clean_cmd.__wrapped__({"do_sample": False}) == {}
    assert common._clean_cmd({"do_sample": False}) == {"do_sample": False}


def test_the_greedy_run_predicts_greedily(ui, tiny_model, tmp_path, monkeypatch):
    """The arguments the Start button writes (runner._launch -> save_cmd -> training_args.yaml) parse with
    do_sample false, give a greedy generation config, and the real `llamafactory-cli train` predicts."""
    from llamafactory.hparams import get_train_args
    from llamafactory.webui import common
    from transformers import GenerationConfig
    from transformers.generation.configuration_utils import GenerationMode

    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "med_norm_test.jsonl").write_text(
        "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in ROWS), encoding="utf-8")
    (data_dir / "dataset_info.json").write_text(json.dumps({"med_norm_test": {"file_name": "med_norm_test.jsonl"}}),
                                                encoding="utf-8")
    monkeypatch.chdir(tmp_path)  # the board's cwd: saves/ is relative to it
    data = board_data(ui, data_dir, model=str(tiny_model), **{"eval.max_samples": "3", "eval.max_new_tokens": 8,
                                                              "eval.batch_size": 3, "top.finetuning_type": "full"})
    args = ui["engine"].runner._parse_eval_args(data)
    written = Path(common.save_cmd(args))  # what _launch hands `llamafactory-cli train`
    saved = yaml.safe_load(written.read_text(encoding="utf-8"))
    assert saved["do_sample"] is False and "temperature" not in saved and "top_p" not in saved
    _, _, training_args, _, generating_args = get_train_args(dict(saved, preprocessing_num_workers=1))
    assert training_args.do_predict and generating_args.do_sample is False
    mode = GenerationConfig(**generating_args.to_dict(obey_generation_config=True)).get_generation_mode()
    assert mode == GenerationMode.GREEDY_SEARCH

    saved["preprocessing_num_workers"] = 1  # 16 processes for 3 rows on a 2-core machine: only slower
    written.write_text(yaml.safe_dump(saved), encoding="utf-8")
    done = subprocess.run([str(CLI), "train", str(written)], cwd=tmp_path, capture_output=True, text=True,
                          timeout=600, env={**os.environ, **QUIET_ENV})
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    predictions = (Path(saved["output_dir"]) / "generated_predictions.jsonl").read_text(encoding="utf-8")
    assert len(predictions.splitlines()) == len(ROWS)


def test_dataset_previews_send_json_not_root_text(ui):
    """The cause: a queue=False answer goes through ORJSONResponse, which str()s gr.JSON's JsonData model."""
    import gradio as gr
    from gradio.routes import ORJSONResponse

    previews = [b for b in ui["demo"].blocks.values() if isinstance(b, gr.JSON)]
    assert {ui["get"]("train.preview_samples"), ui["get"]("eval.preview_samples")} <= set(previews)
    unpatched = gr.JSON.postprocess.__wrapped__(previews[0], ROWS)
    assert json.loads(ORJSONResponse._render(unpatched)).startswith("root=[{")


def test_a_browser_session_keeps_both_adjustments(ui, tmp_path):
    """What a browser does, through gradio's own event processing: the page load switches the language,
    which gives the session new copies of every element; then the preview and the Evaluate tab's slider."""
    import asyncio

    from gradio.routes import ORJSONResponse
    from gradio.state_holder import SessionState

    demo, engine, get = ui["demo"], ui["engine"], ui["get"]
    (tmp_path / "x.jsonl").write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in ROWS),
                                      encoding="utf-8")
    (tmp_path / "dataset_info.json").write_text('{"x": {"file_name": "x.jsonl"}}', encoding="utf-8")
    events = {getattr(fn.fn, "__name__", ""): fn for fn in demo.fns.values() if get("train.preview_samples")
              in fn.outputs or getattr(fn.fn, "__self__", None) is engine}
    state = SessionState(demo)
    asyncio.run(demo.process_api(block_fn=events["change_lang"], inputs=["en"], state=state))
    temperature = get("eval.temperature")
    assert state[temperature._id] is not temperature and state[temperature._id].minimum == 0
    assert state[temperature._id].preprocess(0) == 0
    sent = asyncio.run(demo.process_api(block_fn=events["get_preview"], inputs=[str(tmp_path), ["x"], 0],
                                        state=state))
    assert json.loads(ORJSONResponse._render(sent["data"]))[:2] == [len(ROWS), ROWS[:2]]  # count, first page


def test_an_unknown_board_stops_with_one_line():
    from llamafactory.webui.manager import Manager

    class Engine:
        manager, runner = Manager(), object()

    with pytest.raises(UserError) as caught:
        board_launch.greedy_by_default(Engine())
    message = str(caught.value)
    assert "eval.temperature" in message and board_launch.SUPPORTED in message and "\n" not in message


def test_main_prints_the_error_as_one_line(monkeypatch, capsys):
    monkeypatch.setenv("PATH", os.environ["PATH"])  # main() puts this environment's bin first
    def build():
        raise board_launch.unsupported("element eval.temperature")

    monkeypatch.setattr(board_launch, "build", build)
    monkeypatch.setattr(board_launch, "launch", lambda demo: pytest.fail("launched a board it does not know"))
    assert board_launch.main() == 1
    err = capsys.readouterr().err
    assert err.startswith("lfd webui: error: LlamaBoard of llamafactory 0.9.5 has no element eval.temperature")
    assert len(err.splitlines()) == 1
