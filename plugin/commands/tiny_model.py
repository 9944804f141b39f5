"""`lfd tiny-model`: a tiny random Qwen2 model with its own tokenizer (:mod:`..tiny_model`), a CPU stand-in."""

from __future__ import annotations

from ..tiny_model import build_tiny_model

EXAMPLE = "lfd tiny-model models/tiny-qwen2 --corpus data/med_norm_train.jsonl"


def add_parser(sub) -> None:
    from .arguments import add_command

    parser = add_command(
        sub,
        "tiny-model",
        EXAMPLE,
        "Build a tiny random Qwen2 model (2 layers, hidden 64) with a byte-level BPE tokenizer trained on the\n"
        "corpus and the `qwen` template's special tokens. A CPU stand-in for tests and the demo ONLY: real runs\n"
        "use `modelscope download --model Qwen/Qwen2.5-0.5B-Instruct --local_dir models/Qwen2.5-0.5B-Instruct`.\n"
        "Same corpus + same seed give byte-identical files.",
        help="build a tiny random Qwen2 model for CPU tests and the demo",
    )
    parser.add_argument("out_dir", metavar="OUT_DIR", help="folder to write the model to (new, or made by this command)")
    parser.add_argument(
        "--corpus", metavar="FILE", nargs="+", action="extend", default=[],
        help="JSON/JSONL (all string values) or text files to train the tokenizer on; default: a built-in text",
    )
    parser.add_argument("--seed", metavar="S", type=int, default=0, help="seed of the random weights (default 0)")
    parser.set_defaults(func=run)


def run(args) -> int:
    out = build_tiny_model(args.out_dir, args.corpus, args.seed)
    print(f"wrote {out} (random weights; CPU stand-in for tests and the demo)")
    print(f"  use: llamafactory-cli train recipes/med_norm_lora.yaml model_name_or_path={out} bf16=false")
    return 0
