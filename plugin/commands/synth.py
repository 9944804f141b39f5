"""`lfd synth`: knowledge-graph facts -> grounded question-answer pairs from a teacher model, as a dataset.

It is `lfd convert kg_qa` (converters/kg_qa.py) under the name the task goes by: the same options,
splits, rejects, dataset_info.json entry and summary.
"""

from __future__ import annotations

import argparse

from .arguments import add_command


def add_parser(sub) -> argparse.ArgumentParser:
    from ...converters.base import converters
    from . import convert

    p = add_command(
        sub, "synth",
        example=("lfd synth data/samples/kg/cmekg_triples.csv --api-base http://127.0.0.1:8000/v1 --model teacher "
                 "--request-cache data/samples/kg/replies.jsonl --out-dir data"),
        description=("The example runs offline: the sample's replies are all in its request cache, so nothing is sent.\n"
                     "With a teacher served on this machine (e.g. API_HOST=127.0.0.1 API_PORT=8000 llamafactory-cli api\n"
                     "recipes/med_lora_serve.yaml, or vLLM):\n"
                     "  lfd synth data/samples/kg/cmekg_entities.json --api-base http://127.0.0.1:8000/v1 --pairs 3 --test-size 2 --out-dir data\n\n"
                     "Asks an OpenAI-compatible teacher model (llamafactory-cli api, vLLM, a hosted API) for question-\n"
                     "answer pairs grounded in each entity's knowledge-graph facts (HuaTuo's way of making its\n"
                     "instructions), keeps the pairs whose answer names a fact, and writes them as kg_qa_train\n"
                     "(/ _test / _val) with a dataset_info.json entry, exactly as `lfd convert kg_qa` does. Replies\n"
                     "are cached (--request-cache): a rerun sends nothing and an interrupted run resumes."),
        help="knowledge-graph facts -> QA pairs written by a teacher model (lfd convert kg_qa)",
    )
    convert.add_arguments(p, converter=False)
    converters.get("kg_qa").add_arguments(p.add_argument_group("kg_qa options"))
    p.set_defaults(func=run, converter="kg_qa")
    return p


def run(args: argparse.Namespace) -> int:
    from . import convert

    return convert.run(args)
