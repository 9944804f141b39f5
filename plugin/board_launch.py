"""The web board `lfd webui` starts: LLaMA-Factory's own UI, two adjustments, launched as LLaMA-Factory does.

Run as ``python -m llamafactory_domains.plugin.board_launch`` in the board's working directory (what
`lfd webui` execs, see :mod:`.commands.webui`). It builds ``llamafactory.webui.interface.create_ui()``,
changes it in this process only (LLaMA-Factory's installed files are never edited), and launches it the way
``llamafactory-cli webui`` (``run_web_ui``) does: ``queue()``, GRADIO_SERVER_NAME / GRADIO_SERVER_PORT /
GRADIO_SHARE / GRADIO_IPV6 from the environment, ``inbrowser=True``.

1. Greedy predictions by default (:func:`greedy_by_default`). The Evaluate & Predict tab starts on
   temperature 0.95 / top-p 0.7 and LLaMA-Factory's default is ``do_sample: true``, so its predictions are
   sampled, unlike our predict recipes (``do_sample: false``). Here its temperature slider goes down to 0 and
   starts there, and 0 means greedy, LLaMA-Factory's own convention (``chat/hf_engine.py``: no temperature ->
   ``do_sample=False``): the runner then passes ``do_sample: false`` and no temperature/top-p. Above 0 it
   passes ``do_sample: true`` with both, so sampling stays one slider move away.
2. JSON dataset previews (:func:`plain_json_previews`). gradio 5.50's ``gr.JSON.postprocess`` returns a
   pydantic ``JsonData`` (a ``RootModel``); a ``queue=False`` event (the preview buttons are) answers through
   ``routes.ORJSONResponse``, whose ``orjson.dumps(..., default=str)`` turns it into the string
   ``"root=[{...}]"`` (gradio issue #12341, fixed in 6.0 by PR #12343). Here it returns a model gradio
   itself turns into plain JSON before sending, on either path.

If the UI is not the one these adjustments know, the board does not start: one line names what is missing
and the versions supported, rather than a board that silently samples. gradio and llamafactory are imported
inside the functions: importing this module is cheap.
"""

from __future__ import annotations

import functools
import os
import sys
from pathlib import Path

from .errors import UserError

MODULE = "llamafactory_domains.plugin.board_launch"  # what `lfd webui` runs with `python -m`
SUPPORTED = "llamafactory>=0.9.5,<0.10 with gradio>=5.45,<=5.50.0"
GREEDY_INFO = ("0 = greedy (do_sample: false), as our predict recipes; "
               "above 0 = sampling with this temperature and top-p")


def unsupported(what: str) -> UserError:
    try:
        from llamafactory.extras.env import VERSION
    except Exception:  # noqa: BLE001 - only for the message
        VERSION = "?"
    return UserError(f"LlamaBoard of llamafactory {VERSION} has no {what}; `lfd webui` supports {SUPPORTED}: "
                     "pip install llamafactory==0.9.5 'gradio>=5.45,<=5.50.0'")


def find_engine(demo):
    """The ``Engine`` create_ui() made: its ``resume``/``change_lang`` are the UI's load/language events."""
    from llamafactory.webui.engine import Engine

    for block_fn in demo.fns.values():
        owner = getattr(block_fn.fn, "__self__", None)
        if isinstance(owner, Engine):
            return owner
    raise unsupported("Engine behind its events")


def element(manager, elem_id: str, kind: type):
    try:
        elem = manager.get_elem_by_id(elem_id)
    except KeyError:
        raise unsupported(f"element {elem_id}") from None
    if not isinstance(elem, kind):
        raise unsupported(f"{kind.__name__} {elem_id}")
    return elem


def greedy_by_default(engine) -> None:
    """Temperature 0 (the new start value) = greedy: ``do_sample: false``, no temperature/top-p."""
    import gradio as gr
    from llamafactory.webui import common

    temperature = element(engine.manager, "eval.temperature", gr.Slider)
    element(engine.manager, "eval.top_p", gr.Slider)
    parse = getattr(engine.runner, "_parse_eval_args", None)
    clean = getattr(common, "_clean_cmd", None)
    if parse is None or clean is None:
        raise unsupported("Runner._parse_eval_args / webui.common._clean_cmd")
    # On the component and in its constructor arguments: gradio rebuilds a session's copy from those at each
    # prop update (the language switch at page load relabels it: LOCALES["temperature"] has a label only),
    # and its bounds are checked on the server too (Slider.preprocess).
    props = dict(minimum=0, value=0, info=GREEDY_INFO)
    try:
        temperature._constructor_args[0].update(props)
    except (AttributeError, IndexError):
        raise unsupported("gradio component constructor arguments (gradio>=5.45,<=5.50.0)") from None
    for name, value in props.items():
        setattr(temperature, name, value)

    @functools.wraps(parse)
    def parse_eval_args(data):
        args = parse(data)
        if data[temperature] == 0:
            args.pop("temperature", None)
            args.pop("top_p", None)
            args["do_sample"] = False
        else:
            args["do_sample"] = True
        return args

    engine.runner._parse_eval_args = parse_eval_args  # this runner only: its preview_eval/run_eval call it

    # gen_cmd (the previewed command) and save_cmd (the training_args.yaml a run gets) drop every False
    # value but a few (_clean_cmd): do_sample: false would vanish and the run would sample after all
    if not getattr(clean, "keeps_do_sample", False):
        @functools.wraps(clean)
        def clean_cmd(args):
            kept = clean(args)
            if args.get("do_sample") is False:
                kept["do_sample"] = False
            return kept

        clean_cmd.keeps_do_sample = True
        common._clean_cmd = clean_cmd  # module global: gen_cmd and save_cmd look it up at each call
    if "--do_sample False" not in common.gen_cmd({"do_sample": False}):
        raise unsupported("webui.common.gen_cmd that uses _clean_cmd")


def plain_json_previews(demo) -> int:
    """Every ``gr.JSON`` (the Train and Evaluate dataset previews) sends JSON; returns how many the UI has.

    Patched on the class, in this process only: gradio gives each browser session its own copy of a
    component whenever an event updates its props (``blocks.postprocess_data``: ``block.__class__(**kwargs)``;
    the language switch at page load relabels every element), so an instance attribute would not last.
    The value becomes a ``GradioRootModel``, which gradio turns into plain data before it sends it on both
    the queued and the ``queue=False`` path (``JsonData`` is a bare ``RootModel``, which it does not).
    """
    import gradio as gr
    from gradio.data_classes import GradioRootModel
    from pydantic import JsonValue

    found = [block for block in demo.blocks.values() if isinstance(block, gr.JSON)]
    if not found:
        raise unsupported("dataset preview (gr.JSON)")
    if getattr(gr.JSON.postprocess, "sends_json", False):
        return len(found)

    class SentJSON(GradioRootModel):
        root: JsonValue

    postprocess = gr.JSON.postprocess

    @functools.wraps(postprocess)
    def sends_json(self, value):
        data = postprocess(self, value)
        return SentJSON(root=data.root) if hasattr(data, "root") else data

    sends_json.sends_json = True
    gr.JSON.postprocess = sends_json
    return len(found)


def build():
    """LLaMA-Factory's UI with our adjustments, ready to launch."""
    try:
        from llamafactory.webui.interface import create_ui
    except ImportError as err:
        raise UserError(f"cannot import LlamaBoard ({err}); `lfd webui` supports {SUPPORTED}: "
                        "pip install llamafactory==0.9.5 'gradio>=5.45,<=5.50.0'") from None
    demo = create_ui()
    greedy_by_default(find_engine(demo))
    plain_json_previews(demo)
    return demo


def launch(demo) -> None:
    """As ``llamafactory.webui.interface.run_web_ui`` launches it (gradio reads GRADIO_SERVER_PORT itself)."""
    from llamafactory.extras.misc import fix_proxy, is_env_enabled

    ipv6 = is_env_enabled("GRADIO_IPV6")
    server_name = os.getenv("GRADIO_SERVER_NAME", "[::]" if ipv6 else "0.0.0.0")
    fix_proxy(ipv6_enabled=ipv6)
    demo.queue().launch(share=is_env_enabled("GRADIO_SHARE"), server_name=server_name, inbrowser=True)


def main() -> int:
    # the board starts its runs as plain `llamafactory-cli train ...` (runner.py): this environment's first
    bin_dir = Path(sys.executable).parent
    if (bin_dir / "llamafactory-cli").exists():
        os.environ["PATH"] = os.pathsep.join([str(bin_dir), os.environ.get("PATH", "")])
    try:
        demo = build()
    except UserError as err:
        print(f"lfd webui: error: {err}", file=sys.stderr)
        return 1
    launch(demo)
    return 0


if __name__ == "__main__":
    sys.exit(main())
