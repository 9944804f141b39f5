"""`lfd distill`: questions -> answers from a teacher model behind an OpenAI-compatible endpoint, as a dataset.

It is `lfd convert distill --clean` (converters/distill.py) under the name the task goes by: the same options,
splits, rejects, dataset_info.json entry and summary; every pair goes through `lfd clean`'s rules
(``--no-clean``: only the personal data is masked, as the converter always does).
"""

from __future__ import annotations

import argparse

from .arguments import add_command


def add_parser(sub) -> argparse.ArgumentParser:
    from ...converters.base import converters
    from . import convert

    p = add_command(
        sub, "distill",
        example=("lfd distill data/samples/distill/questions.txt --api-base http://127.0.0.1:8000/v1 --model teacher "
                 "--request-cache data/samples/distill/replies.jsonl --out-dir data"),
        description=("The example runs offline: the sample's replies are all in its request cache, so nothing is sent.\n"
                     "With a teacher served on this machine (e.g. API_HOST=127.0.0.1 API_PORT=8000 llamafactory-cli api\n"
                     "recipes/med_lora_serve.yaml, or vLLM):\n"
                     "  lfd distill data/samples/distill/questions.csv --api-base http://127.0.0.1:8000/v1 --test-size 2 --out-dir data\n\n"
                     "Asks an OpenAI-compatible teacher model (llamafactory-cli api, vLLM, a hosted API; the key from\n"
                     "--api-key-env) to answer each question (a .txt line, a CSV/xlsx question column, or any\n"
                     "converter's output), put into --template. Personal data is masked before a question is sent and\n"
                     "in the answers kept; empty answers, refusals, repeated questions and answers cut off at\n"
                     "--max-tokens are dropped and counted. The pairs are written as distill_train (/ _test / _val)\n"
                     "with a dataset_info.json entry, exactly as `lfd convert distill` does, each record keeping the\n"
                     "teacher's name. Replies are cached (--request-cache): a rerun sends nothing and an interrupted\n"
                     "run resumes. The pairs are cleaned as `lfd convert --clean` cleans (junk such as HTML, URLs and\n"
                     "ads removed, placeholder and echoed answers dropped; --clean-rules picks rules, --no-clean\n"
                     "keeps only the masking)."),
        help="questions -> answers written by a teacher model (lfd convert distill)",
    )
    convert.add_arguments(p, converter=False)
    p.add_argument("--no-clean", dest="clean", action="store_false",
                   help="only mask personal data, without `lfd clean`'s junk and answer rules (--clean is the default)")
    converters.get("distill").add_arguments(p.add_argument_group("distill options"))
    p.set_defaults(func=run, converter="distill", clean=True)
    return p


def run(args: argparse.Namespace) -> int:
    from . import convert

    return convert.run(args)
