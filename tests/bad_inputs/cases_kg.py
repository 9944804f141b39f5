"""`lfd synth` (converter kg_qa) on bad input: no teacher, no facts, a template that cannot say what to ask,
a teacher nobody serves. Files start with ``kg_``."""

from __future__ import annotations

from corpus import F, case

TRIPLES = "head,relation,tail\n肝癌,药物治疗,索拉非尼\n".encode("utf-8")


def synth(file: str, *extra: str) -> list[str]:
    return ["synth", file, "--out-dir", "{out}", "--request-cache", "{tmp}/replies.jsonl", *extra]


CASES = [
    case("kg_synth_no_api_base", TRIPLES, synth(F + "kg_triples.csv"), 1, "--api-base URL is needed",
         "no teacher named"),
    case("kg_synth_no_facts", "head,relation,tail\n".encode("utf-8"),
         synth(F + "kg_header_only.csv", "--api-base", "http://127.0.0.1:9/v1"), 1,
         "kg_header_only.csv: no facts found", "a triples file with a header and nothing else"),
    case("kg_synth_wrong_columns", "问题,答案\n肝癌用什么药,索拉非尼\n".encode("utf-8"),
         synth(F + "kg_qa_pairs.csv", "--api-base", "http://127.0.0.1:9/v1"), 1, "kg_qa_pairs.csv",
         "a QA table instead of triples"),
    case("kg_synth_template_without_fields", "请写问题。\n".encode("utf-8"),
         synth(F + "kg_triples.csv", "--api-base", "http://127.0.0.1:9/v1", "--template", F + "kg_template.txt"), 1,
         "it needs {entity}, {facts}, {pairs}", "a prompt template missing what it must be filled with",
         file="kg_template.txt", extra_files={"kg_triples.csv": TRIPLES}),
    case("kg_synth_endpoint_down", TRIPLES,
         synth(F + "kg_triples.csv", "--api-base", "http://127.0.0.1:9/v1", "--model", "teacher"), 1,
         "cannot reach http://127.0.0.1:9/v1", "a teacher nobody serves (the model named, so it is the first request)"),
]
