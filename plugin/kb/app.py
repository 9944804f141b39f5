"""`lfd kb serve`: the knowledge-base assistant as a gradio app (the seed's controls, langchain-Chatchat's layout).

A mode switch (knowledge-base QA or plain chat), a knowledge-base picker (a new name typed there is
created by the first upload), an upload of files or a folder into the chosen base with the
sentence-length limit for indexing, and the conversation: each knowledge-base answer is followed by
its sources, ``出处 [n] file``, each a ``<details>`` block that opens on the retrieved passage. One
model answers every request, one at a time (the queue's single worker).
"""

from __future__ import annotations

import html
import sys
from pathlib import Path

from ..errors import UserError
from .assistant import Assistant, Reply
from .store import Settings, StoredKb, changing, names

KB_MODE, CHAT_MODE = "知识库问答", "LLM 对话"


def answer_markdown(reply: Reply) -> str:
    """The answer and its expandable sources, as the chat shows them.

    >>> from .assistant import Source
    >>> print(answer_markdown(Reply("q", "五年。", [Source(1, "a.txt", "有效期<五年>")], retrieved=1)))
    五年。
    <BLANKLINE>
    <details><summary>出处 [1] a.txt</summary>
    <BLANKLINE>
    有效期&lt;五年&gt;
    <BLANKLINE>
    </details>
    """
    parts = [reply.answer or "*(the model returned an empty answer)*"]
    if reply.trimmed:
        parts.append(f"*{reply.trimmed}*")
    for source in reply.sources:
        parts.append(f"<details><summary>出处 [{source.rank}] {html.escape(source.source)}</summary>\n\n"
                     f"{html.escape(source.passage)}\n\n</details>")
    return "\n\n".join(parts)


class Session:
    """The app's state shared by its handlers: the bases (opened once each) and the model."""

    def __init__(self, home: Path, model, top_k: int | None = None, temperature: float = 0.0,
                 max_new_tokens: int | None = None):
        self.home, self.model, self.top_k = home, model, top_k
        self.temperature, self.max_new_tokens = temperature, max_new_tokens
        self.open: dict[str, tuple[int | None, StoredKb]] = {}

    def base(self, name: str) -> StoredKb:
        """The base, read again when its manifest changed (an `lfd kb add` beside the app)."""
        try:
            stamp = (self.home / name / "kb.json").stat().st_mtime_ns
        except OSError:
            stamp = None
        if name not in self.open or self.open[name][0] != stamp:
            self.open[name] = (stamp, StoredKb.open(name, self.home))
        return self.open[name][1]

    def assistant(self, name: str | None) -> Assistant:
        kb = self.base(name) if name else None
        return Assistant(kb, self.model, self.top_k, self.temperature, self.max_new_tokens)

    def upload(self, name: str | None, files: list[str] | None, chunk_chars: float | None) -> str:
        """Adds uploaded files (or a folder's) to the base ``name``, creating it if new; the status line."""
        paths = [Path(f) for f in files or []]
        if not name or not name.strip():
            raise UserError("请先选择或输入知识库名称 (choose or type a knowledge base name first)")
        if not paths:
            raise UserError("请先选择要上传的文件 (choose files or a folder to upload first)")
        name, chunk = name.strip(), int(chunk_chars or 100)
        if chunk < 1:
            raise UserError("单段文本最大长度 must be at least 1")
        with changing(self.home, name):
            return self.add_files(name, paths, chunk)

    def add_files(self, name: str, paths: list[Path], chunk: int) -> str:
        if name in names(self.home):
            kb = self.base(name)
            if chunk != kb.settings.chunk_chars:
                kb.rechunk(chunk)
            done = kb.add(paths, replace_changed=True)
            kb.index()
            kb.save()
        else:
            kb, target = StoredKb.create(name, self.home, Settings(chunk_chars=chunk, context_chars=max(250, chunk)))
            try:
                done = kb.add(paths)
                if not kb.manifest.documents:
                    raise UserError("; ".join(done.problems) or "no readable document")
                kb.index()
                kb.commit_build(target)
            except BaseException:
                kb.discard()
                raise
        for line in done.problems:
            print(f"lfd kb serve: skipped: {line}", file=sys.stderr)
        skipped = "".join(f"\n- skipped: {line}" for line in done.problems)
        return (f"知识库 {name}: added {len(done.added)}, replaced {len(done.replaced)}, unchanged "
                f"{len(done.unchanged)}, skipped {len(done.problems)}; {len(kb.manifest.documents)} documents"
                f"{skipped}")

    def respond(self, mode: str, name: str | None, message: str, history: list[dict]) -> str:
        if not message.strip():
            raise UserError("请输入提问内容 (type a question)")
        if mode == CHAT_MODE:
            return self.assistant(None).chat(history, message)
        if not name:
            raise UserError("请先选择知识库 (choose a knowledge base, or switch to LLM 对话)")
        return answer_markdown(self.assistant(name).ask(message))


def build_app(session: Session):
    import gradio as gr

    def refresh(current):
        choices = names(session.home)
        return gr.update(choices=choices, value=current or None)  # a name typed there stays, new or not

    def upload(name, files, folder, chunk):
        try:
            status = session.upload(name, [*(files or []), *(folder or [])], chunk)
        except UserError as err:
            status = f"⚠ {err}"
        return status, refresh(name), None, None

    def send(mode, name, message, history):
        history = list(history or [])
        try:
            answer = session.respond(mode, name, message, history)
        except UserError as err:
            answer = f"⚠ {err}"
        return "", [*history, {"role": "user", "content": message}, {"role": "assistant", "content": answer}]

    with gr.Blocks(title="知识库问答 · llamafactory-domains", analytics_enabled=False) as app:
        gr.Markdown("## 知识库问答\nAnswers from your documents by the tuned model, with their sources (出处).")
        with gr.Row():
            with gr.Column(scale=1):
                mode = gr.Radio([KB_MODE, CHAT_MODE], value=KB_MODE, label="请选择对话模式", elem_id="mode")
                kb = gr.Dropdown(names(session.home), value=(names(session.home) or [None])[0], label="请选择知识库",
                                 allow_custom_value=True, interactive=True, elem_id="kb")
                files = gr.File(file_count="multiple", label="上传文件", elem_id="files")
                folder = gr.File(file_count="directory", label="上传文件夹", elem_id="folder")
                chunk = gr.Number(100, precision=0, minimum=1, label="单段文本最大长度 (indexing sentence length)",
                                  elem_id="chunk")
                add = gr.Button("添加文件到知识库", elem_id="add")
                status = gr.Markdown(elem_id="status")
            with gr.Column(scale=3):
                chat = gr.Chatbot(type="messages", label="对话", height=560, elem_id="chat",
                                  sanitize_html=True, render_markdown=True)
                question = gr.Textbox(placeholder="请输入提问内容，按回车发送", label="问题", elem_id="question")
                ask = gr.Button("发送", variant="primary", elem_id="send")
        add.click(upload, [kb, files, folder, chunk], [status, kb, files, folder])
        for event in (question.submit, ask.click):
            event(send, [mode, kb, question, chat], [question, chat])
    return app


def launch(home: Path, model, args) -> int:
    session = Session(home, model, args.top_k, args.temperature, args.max_new_tokens)
    app = build_app(session)
    print(f"lfd kb serve: http://{args.host}:{args.port}/ (knowledge bases in {home}; Ctrl-C stops it)", file=sys.stderr)
    app.queue(default_concurrency_limit=1).launch(server_name=args.host, server_port=args.port, inbrowser=False,
                                                   share=False, show_api=False, quiet=True)
    return 0
