"""`lfd distill` (converter distill) on bad input: no questions, no question column, a template with no place for
the question, a bad --concurrency, no teacher, a teacher nobody serves. Files start with ``distill_``."""

from __future__ import annotations

from corpus import F, case

QUESTIONS = "高血压患者可以喝咖啡吗？\n胃镜检查前需要空腹多久？\n".encode("utf-8")
DOWN = ("--api-base", "http://127.0.0.1:9/v1")


def distill(file: str, *extra: str) -> list[str]:
    return ["distill", file, "--out-dir", "{out}", "--request-cache", "{tmp}/replies.jsonl", *extra]


CASES = [
    case("distill_no_questions", "\n  \n\n".encode("utf-8"), distill(F + "distill_blank.txt", *DOWN), 1,
         "distill_blank.txt: no questions found", "a question list of blank lines only"),
    case("distill_no_question_column", "编号,答案\n1,多休息\n".encode("utf-8"), distill(F + "distill_answers.csv", *DOWN), 1,
         "header has no question or 问题 or instruction or query or prompt columns",
         "a table without a question column (and no --question-column)"),
    case("distill_missing_question_field", '{"提问": "头痛怎么办？"}\n'.encode("utf-8"),
         distill(F + "distill_asked.jsonl", *DOWN, "--question-column", "问题"), 1,
         "record has no 问题 field (found: 提问)", "--question-column names a field the JSONL records do not have"),
    case("distill_template_without_question", QUESTIONS,
         distill(F + "distill_questions.txt", *DOWN, "--template", "请专业地回答。"), 1,
         "it needs {question}", "a prompt template with no place for the question"),
    case("distill_bad_concurrency", QUESTIONS, distill(F + "distill_questions2.txt", *DOWN, "--concurrency", "0"), 1,
         "--concurrency '0': expected a whole number of at least 1", "zero requests at once"),
    case("distill_no_api_base", QUESTIONS, distill(F + "distill_questions3.txt"), 1, "--api-base URL is needed",
         "no teacher named"),
    case("distill_endpoint_down", QUESTIONS, distill(F + "distill_questions4.txt", *DOWN, "--model", "teacher"), 1,
         "cannot reach http://127.0.0.1:9/v1", "a teacher nobody serves (the model named, so it is the first request)"),
]
