"""`lfd kb`: named knowledge bases of the user's documents, and the assistant that answers from them.

``build`` / ``add`` / ``remove`` / ``list`` keep the bases (plugin/kb/store.py); ``ask`` answers one
question with the tuned model and its sources (plugin/kb/assistant.py); ``serve`` is the web app
(plugin/kb/app.py).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..errors import UserError
from .arguments import ExampleFirstParser, HelpFormatter, add_command, positive_int, seconds, temperature

SAMPLE_KB = "data/samples/pharma/kb"
EXAMPLES = {
    "build": f"lfd kb build pharma_regs {SAMPLE_KB}",
    "add": "lfd kb add pharma_regs 无菌药品.docx 指南/",
    "remove": "lfd kb remove pharma_regs --document 无菌药品.docx",
    "list": "lfd kb list",
    "ask": 'lfd kb ask pharma_regs "药品注册证书有效期几年？" --recipe recipes/pharma_lora_serve.yaml',
    "serve": "lfd kb serve --recipe recipes/pharma_lora_serve.yaml",
}


def add_parser(sub):
    p = add_command(
        sub, "kb", example=EXAMPLES["build"],
        description=("Knowledge bases of your documents (txt, md, docx, pdf, xlsx/csv; folders searched, the\n"
                     "langchain-Chatchat knowledge_base/NAME/content layout read), indexed with the retrieval\n"
                     "`lfd convert pharma_rag` trains with, and the assistant that answers from them:\n"
                     f"  {EXAMPLES['ask']}\n  {EXAMPLES['serve']}\n"
                     "Bases live in --kb-home (default $LFD_KB_HOME, else ~/.local/share/llamafactory-domains/\n"
                     "knowledge_base). `lfd kb ACTION --help` shows each action's example and options."),
        help="knowledge bases of your documents, and the assistant answering from them (build, ask, serve)",
    )
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=ExampleFirstParser)
    for name, builder in (("build", build_action), ("add", add_action), ("remove", remove_action),
                          ("list", list_action), ("ask", ask_action), ("serve", serve_action)):
        builder(actions)
    p.set_defaults(func=run)
    return p


def action(actions, name: str, description: str, help: str) -> argparse.ArgumentParser:
    q = actions.add_parser(name, help=help, formatter_class=HelpFormatter,
                           description=f"example:\n  {EXAMPLES[name]}\n\n{description}")
    q.add_argument("--kb-home", type=Path, metavar="DIR",
                   help="the folder of the knowledge bases (default $LFD_KB_HOME, else "
                        "~/.local/share/llamafactory-domains/knowledge_base)")
    return q


def index_options(q) -> None:
    q.add_argument("--chunk-chars", type=positive_int, metavar="N",
                   help="longest sentence indexed (the sentence-length limit; default 100, as pharma_rag)")
    q.add_argument("--context-chars", type=positive_int, metavar="N",
                   help="each hit is widened to about this many characters (default 250)")
    q.add_argument("--top-k", type=positive_int, metavar="K", help="passages per question (default 5)")
    q.add_argument("--retriever", choices=("bm25", "dense"),
                   help="bm25 (jieba words, no model; default) or dense (needs --embedding-model)")
    q.add_argument("--embedding-model", type=Path, metavar="LOCAL_PATH",
                   help="a downloaded sentence-embedding model folder, e.g. models/text2vec-large-chinese")


def build_action(actions):
    q = action(actions, "build", "Indexes files and folders as the knowledge base NAME. A file that cannot be read or is\n"
               "empty is one line on stderr and left out; the rest are indexed. An existing NAME is refused\n"
               "unless --force (then it is replaced in one step once the new one is built).",
               "index files and folders as a named knowledge base")
    q.add_argument("name", metavar="NAME")
    q.add_argument("paths", nargs="+", type=Path, metavar="FILE_OR_FOLDER")
    index_options(q)
    q.add_argument("--force", action="store_true", help="replace an existing knowledge base of this name")


def add_action(actions):
    q = action(actions, "add", "Adds files and folders to the knowledge base NAME: only they are read and tokenized;\n"
               "the index is then what a fresh build of all its files would give. A file already there with\n"
               "the same content is unchanged; with other content it is refused unless --replace.",
               "add files and folders to a knowledge base")
    q.add_argument("name", metavar="NAME")
    q.add_argument("paths", nargs="+", type=Path, metavar="FILE_OR_FOLDER")
    q.add_argument("--replace", action="store_true", help="index the new version of a document already there")
    q.add_argument("--chunk-chars", type=positive_int, metavar="N",
                   help="change the sentence-length limit: the whole base is chunked again (from its kept texts)")


def remove_action(actions):
    q = action(actions, "remove", "Removes the knowledge base NAME, or with --document only those documents.",
               "remove a knowledge base or some of its documents")
    q.add_argument("name", metavar="NAME")
    q.add_argument("--document", action="append", metavar="CITED_NAME",
                   help="a document as `lfd kb list NAME` names it (repeatable)")


def list_action(actions):
    q = action(actions, "list", "Lists the knowledge bases (documents, chunks, settings); with NAME, its documents.",
               "list knowledge bases, or one base's documents")
    q.add_argument("name", nargs="?", metavar="NAME")
    q.add_argument("--json", action="store_true", help="JSON on stdout, for scripts")


def model_options(q) -> None:
    q.add_argument("--recipe", nargs="+", metavar=("YAML", "KEY=VALUE"),
                   help="a serve or predict recipe and key=value overrides as llamafactory-cli takes them (e.g. "
                        "adapter_name_or_path=null): its model, adapter, template and cutoff_len, loaded in this "
                        "process by LLaMA-Factory's ChatModel (with --api-base: only its tokenizer, to count tokens)")
    q.add_argument("--api-base", metavar="URL",
                   help="an OpenAI-compatible endpoint instead, e.g. http://127.0.0.1:8000/v1 (llamafactory-cli api, vLLM)")
    q.add_argument("--model", metavar="NAME", help="the endpoint's model name (default: the first it lists)")
    q.add_argument("--api-key-env", default="OPENAI_API_KEY", metavar="VAR",
                   help="environment variable holding the endpoint's key (default OPENAI_API_KEY)")
    q.add_argument("--timeout", type=seconds, default=120.0, metavar="S", help="seconds to wait for the endpoint")
    q.add_argument("--temperature", type=temperature, default=0.0, metavar="T",
                   help="0 (default) is greedy (do_sample false); above 0 samples")
    q.add_argument("--max-new-tokens", type=positive_int, metavar="N", help="longest answer (default: the recipe's)")
    q.add_argument("--top-k", type=positive_int, metavar="K", help="passages per question (default: the base's)")


def ask_action(actions):
    q = action(actions, "ask", "Retrieves passages of NAME for the question, builds the prompt `lfd convert pharma_rag`\n"
               "trains with, and prints the model's answer and its numbered sources (出处). The model is a\n"
               "recipe's (--recipe, in-process) or an endpoint's (--api-base). Greedy unless --temperature.",
               "answer a question from a knowledge base, with its sources")
    q.add_argument("name", metavar="NAME")
    q.add_argument("question", metavar="QUESTION")
    model_options(q)
    q.add_argument("--json", action="store_true", help="JSON on stdout: answer, sources, prompt, trimming")


def serve_action(actions):
    q = action(actions, "serve", "The assistant as a web app: knowledge-base QA or plain chat, a knowledge-base picker,\n"
               "uploads of files or folders into the chosen base (with the sentence-length limit), answers\n"
               "with expandable 出处. Listens on 127.0.0.1 unless --host.",
               "the knowledge-base assistant as a web app")
    model_options(q)
    q.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    q.add_argument("--port", type=int, default=7861, help="port (default 7861)")


def run(args) -> int:
    from ..kb import store

    home = args.kb_home or store.default_home()
    args.command = f"kb {args.action}"  # errors read `lfd kb ask: error: ...`
    if args.action in ("build", "add", "remove"):
        with store.changing(home, args.name):
            return {"build": build, "add": add, "remove": remove}[args.action](args, home)
    return {"list": show_list, "ask": ask, "serve": serve}[args.action](args, home)


def settings_from(args, base=None):
    from ..kb.store import Settings

    base = base or Settings()
    chosen = {key: getattr(args, key) for key in ("chunk_chars", "context_chars", "top_k", "retriever")
              if getattr(args, key, None) is not None}
    if getattr(args, "embedding_model", None) is not None:
        chosen["embedding_model"] = str(args.embedding_model.resolve())
    settings = base.__class__(**{**base.__dict__, **chosen})
    if settings.context_chars < settings.chunk_chars:
        raise UserError(f"--context-chars {settings.context_chars} is below --chunk-chars {settings.chunk_chars}; "
                        "a context holds at least one whole chunk")
    if settings.retriever == "dense" and not settings.embedding_model:
        raise UserError("--retriever dense needs --embedding-model LOCAL_PATH (a downloaded sentence-embedding model "
                        "folder, e.g. models/text2vec-large-chinese)")
    return settings


def report(done, kb, verb: str) -> None:
    for line in done.problems:
        print(f"lfd kb {verb}: skipped: {line}", file=sys.stderr)
    docs = kb.manifest.documents
    chunks = sum(entry.chunks for entry in docs)
    parts = [f"{len(done.added)} added"] + ([f"{len(done.replaced)} replaced"] if done.replaced else []) + (
        [f"{len(done.unchanged)} unchanged"] if done.unchanged else []) + [f"{len(done.problems)} skipped"]
    print(f"knowledge base {kb.name!r}: {', '.join(parts)}; {len(docs)} documents, {chunks} chunks, "
          f"{kb.settings.retriever} index in {kb.folder}", file=sys.stderr)


def build(args, home: Path) -> int:
    from ..kb.store import StoredKb

    settings = settings_from(args)
    kb, target = StoredKb.create(args.name, home, settings, force=args.force)
    try:
        done = kb.add(args.paths)
        if not kb.manifest.documents:
            more = f" (and {len(done.problems) - 1} more files)" if len(done.problems) > 1 else ""
            raise UserError(f"no document could be read, nothing was built: {done.problems[0]}{more}"
                            if done.problems else "no document to index; nothing was built")
        kb.index()
        kb.commit_build(target)
    except BaseException:
        kb.discard()
        raise
    report(done, kb, "build")
    return 0


def add(args, home: Path) -> int:
    from ..kb.store import StoredKb

    kb = StoredKb.open(args.name, home)
    if args.chunk_chars and args.chunk_chars != kb.settings.chunk_chars:
        kb.rechunk(args.chunk_chars)
    done = kb.add(args.paths, replace_changed=args.replace)
    kb.index()
    kb.save()
    report(done, kb, "add")
    return 0


def remove(args, home: Path) -> int:
    import shutil

    from ..kb.store import StoredKb

    kb = StoredKb.open(args.name, home)
    if args.document:
        kb.remove(args.document)
        if kb.manifest.documents:
            kb.index()
        print(f"knowledge base {kb.name!r}: removed {len(args.document)} documents; "
              f"{len(kb.manifest.documents)} left", file=sys.stderr)
        return 0
    aside = kb.folder.with_name(f".removing-{kb.name}")
    kb.folder.rename(aside)
    shutil.rmtree(aside, ignore_errors=True)
    print(f"knowledge base {kb.name!r} removed from {home}", file=sys.stderr)
    return 0


def show_list(args, home: Path) -> int:
    from ..kb.store import StoredKb, names

    if args.name:
        kb = StoredKb.open(args.name, home)
        rows = [{"document": e.name, "characters": e.chars, "chunks": e.chunks} for e in kb.manifest.documents]
        if args.json:
            print(json.dumps({"name": kb.name, "settings": kb.settings.__dict__, "documents": rows}, ensure_ascii=False,
                             indent=2))
        else:
            for row in rows:
                print(f"{row['document']}\t{row['characters']} characters\t{row['chunks']} chunks")
        return 0
    bases = [StoredKb.open(name, home) for name in names(home)]
    rows = [{"name": kb.name, "documents": len(kb.manifest.documents),
             "chunks": sum(e.chunks for e in kb.manifest.documents), "settings": kb.settings.__dict__} for kb in bases]
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    elif not rows:
        print(f"no knowledge base in {home}; build one with `{EXAMPLES['build']}`", file=sys.stderr)
    for row in rows if not args.json else ():
        s = row["settings"]
        print(f"{row['name']}\t{row['documents']} documents\t{row['chunks']} chunks\t{s['retriever']}, "
              f"sentences <= {s['chunk_chars']}, contexts ~{s['context_chars']}, top {s['top_k']}")
    return 0


def make_model(args):
    """The model the options name: a recipe's in-process, or an endpoint (with the recipe's tokenizer, if given)."""
    from ..kb.models import EndpointModel, RecipeModel

    recipe, overrides = (Path(args.recipe[0]), args.recipe[1:]) if args.recipe else (None, [])
    if args.api_base:
        counter = RecipeModel(recipe, overrides, load=False) if recipe else None
        return EndpointModel(args.api_base, args.model, args.api_key_env, args.timeout, counter)
    if not recipe:
        raise UserError("no model: pass --recipe recipes/pharma_lora_serve.yaml (in-process) or --api-base "
                        "http://127.0.0.1:8000/v1 (an OpenAI-compatible server)")
    return RecipeModel(recipe, overrides)


def ask(args, home: Path) -> int:
    from ..kb.assistant import Assistant, render
    from ..kb.store import StoredKb

    kb = StoredKb.open(args.name, home)
    if not args.question.strip():
        raise UserError("the question is empty; write it in quotes after the knowledge base's name")
    kb.index()
    reply = Assistant(kb, make_model(args), args.top_k, args.temperature, args.max_new_tokens).ask(args.question)
    if reply.trimmed:
        print(f"lfd kb ask: {reply.trimmed}", file=sys.stderr)
    if not reply.retrieved:
        print(f"lfd kb ask: no passage of {kb.name!r} shares a word with the question: answered with the refusal",
              file=sys.stderr)
    print(json.dumps(reply.to_json(), ensure_ascii=False, indent=2) if args.json else render(reply))
    return 0


def serve(args, home: Path) -> int:
    from ..kb.app import launch

    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"lfd kb serve: warning: listening on {args.host}: anyone who can reach this machine can read your "
              "knowledge bases and upload files; use --host 127.0.0.1 to keep it local", file=sys.stderr)
    return launch(home, make_model(args), args)
