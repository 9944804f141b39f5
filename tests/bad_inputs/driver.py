"""Runs bad-input cases (manifest.json) with the real `lfd` and says what went wrong with each.

    .venv/bin/python tests/bad_inputs/driver.py [CASE_ID_PART ...]

prints one line per failing case and the totals: cases, tracebacks, data lost, partial, leaks, wrong
(exit status or message), known bugs. tests/test_bad_inputs.py runs each case through
:func:`run_case` and fails on any problem. What every case must do:

- never print a traceback; end with its ``exit`` status, printing its ``expect`` fragment;
- lose nothing: no input file (the corpus files, the scratch folder's files, whatever was in the
  output folder before) changes or disappears, unless the run succeeded and the file is an output;
- leave nothing partial: no temporary (dot) file anywhere; on error the output folder is byte for
  byte as it was, and the error is one line ``lfd CMD: error: ...``;
- with ``leak_check``: no prompt of the test or validation split is in the training split, and no
  validation record is a test item, compared after the project's normalization (plugin/dedup.py's
  ``prompt_key`` when it exists, else the exact prompt);
- on success, every JSONL line written is JSON; a convert merges its entries beside the existing
  ones; a rejects file holds a reason on every line.
"""

from __future__ import annotations

import atexit
import hashlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

CORPUS = Path(__file__).resolve().parent
MANIFEST = CORPUS / "manifest.json"
LFD = Path(sys.executable).parent / "lfd"
EXISTING = {"alpaca_zh_demo": {"file_name": "alpaca_zh_demo.json", "formatting": "alpaca"}}
KINDS = ("traceback", "data lost", "partial", "leak", "wrong")


def cases() -> list[dict]:
    return json.loads(MANIFEST.read_text(encoding="utf-8"))


def builder():
    spec = importlib.util.spec_from_file_location("bad_inputs_build", CORPUS / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass
class Outcome:
    case: dict
    problems: dict[str, str] = field(default_factory=dict)  # kind -> what was seen
    skipped: str | None = None

    def report(self) -> str:
        return "; ".join(f"{kind}: {seen}" for kind, seen in self.problems.items())


def snapshot(*folders: Path) -> dict[Path, str]:
    """Every regular file below the folders -> its sha256 (symlinks by their target's bytes)."""
    found = {}
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                found[path] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def fill(case: dict, args: list[str], out: Path, scratch: Path) -> list[str]:
    return [arg.format(dir=CORPUS, out=out, lf=out.parent, tmp=scratch) for arg in args]


def prepare(case: dict, out: Path, scratch: Path) -> list[str]:
    """The case's arguments with placeholders filled, its test-time file made."""
    args = fill(case, case["args"], out, scratch)
    if "generate" in case:
        target = next(Path(arg) for arg, raw in zip(args, case["args"]) if raw.startswith("{tmp}/"))
        builder().generators()[case["generate"]](target)
    if "rename_hex" in case:
        name = os.fsdecode(bytes.fromhex(case["rename_hex"]))  # not UTF-8: kept as surrogate escapes
        target = scratch / name
        try:
            target.write_bytes((CORPUS / "files" / case["file"]).read_bytes())
        except (OSError, UnicodeEncodeError) as err:
            raise SkipCase(f"this file system refuses non-UTF-8 file names ({err})") from None
        args = [str(target) if arg == str(scratch / "non_utf8_name") else arg for arg in args]
    return args


class SkipCase(Exception):
    pass


def lfd(args: list[str], cwd: Path) -> tuple[int, str, str]:
    proc = subprocess.run([str(LFD), *args], capture_output=True, cwd=cwd, timeout=300,
                          env={**os.environ, "PYTHONWARNINGS": "ignore"})
    return proc.returncode, *(stream.decode("utf-8", "backslashreplace") for stream in (proc.stdout, proc.stderr))


BUILT: dict[str, Path] = {}  # a deterministic setup step's output, made once per process


def setup(step: list[str], filled: list[str], home: Path) -> tuple[int, str, str]:
    """A case's setup step. `lfd tiny-model {tmp}/X` (seed 0, built-in corpus: the same bytes every time) is
    built once per process and copied; every other step runs as written."""
    if step[0] != "tiny-model" or len(step) != 2 or not step[1].startswith("{tmp}/"):
        return lfd(filled, home)
    if step[0] not in BUILT:  # the same bytes whatever the folder is called
        cache = tempfile.mkdtemp(prefix="lfd-bad-inputs-")
        atexit.register(shutil.rmtree, cache, True)
        built = Path(cache) / "model"
        code, out, err = lfd([step[0], str(built)], home)
        if code:
            return code, out, err
        BUILT[step[0]] = built
    shutil.copytree(BUILT[step[0]], filled[1])
    return 0, "", ""


def prompt_key():
    """The project's normalized prompt key, or the exact prompt where the project has none."""
    try:
        from llamafactory_domains.plugin.dedup import prompt_key as key
    except ImportError:
        return lambda text: text
    return key


def prompt_of(record: dict) -> str:
    """What the model sees before the answer, in any of the three formats we write."""
    if "conversations" in record:
        turns = record["conversations"]
        said = [t.get("value", t.get("content", "")) for t in turns if t.get("from", t.get("role")) in ("human", "user", "system")]
        return "\n".join(said)
    history = "\n".join(f"{q}\n{a}" for q, a in record.get("history") or [])
    return "\n".join([record.get("system", ""), history, record.get("instruction", ""), record.get("input", "")])


def run_case(case: dict, home: Path) -> Outcome:
    outcome = Outcome(case)
    problems = outcome.problems
    out, scratch = home / "LLaMA-Factory" / "data", home / "tmp"
    out.mkdir(parents=True)
    scratch.mkdir()
    info = out / "dataset_info.json"
    if "target_info" in case:
        info.write_bytes((CORPUS / "files" / case["target_info"]).read_bytes())
    else:
        info.write_text(json.dumps(EXISTING, indent=2), encoding="utf-8")
    try:
        args = prepare(case, out, scratch)
    except SkipCase as skip:
        outcome.skipped = str(skip)
        return outcome
    for step in case.get("setup", []):
        code, _, err = setup(step, fill(case, step, out, scratch), home)
        if code:
            problems["wrong"] = f"setup `lfd {' '.join(step)}` failed: {err.strip()}"
            return outcome
    inputs_before = snapshot(CORPUS / "files", scratch)
    out_before = snapshot(out)

    code, stdout, stderr = lfd(args, home)

    if "Traceback" in stderr:
        problems["traceback"] = stderr.strip().splitlines()[-1]
    if code != case["exit"]:
        problems["wrong"] = f"{case['why']}: exit {code}, expected {case['exit']}: {stderr.strip()[-300:]}"
    elif case["expect"] not in stdout + stderr:
        problems["wrong"] = f"{case['why']}: {case['expect']!r} not in {(stdout + stderr).strip()[-300:]!r}"
    inputs_after = snapshot(CORPUS / "files", scratch)
    lost = sorted(str(p.name) for p, digest in inputs_before.items() if inputs_after.get(p) != digest)
    out_after = snapshot(out)
    if code:
        lost += sorted(str(p.name) for p, digest in out_before.items() if out_after.get(p) != digest)
    elif args[0] == "convert":  # a success may rewrite its own outputs, never another file it found there
        written = {p for p in out_after if p.name.endswith(".jsonl") or p.name == "dataset_info.json"}
        lost += sorted(str(p.name) for p, digest in out_before.items() if p not in written and out_after.get(p) != digest)
    if lost:
        problems["data lost"] = ", ".join(lost)
    temps = sorted(str(p.relative_to(home)) for p in home.rglob(".*") if p.name.startswith((".lfd", ".tmp")) or
                   p.suffix == ".tmp")
    left = sorted(path.name for path in out.iterdir())
    if temps or [name for name in left if name.startswith(".")]:
        problems["partial"] = f"temporary files left: {temps or left}"
    if code:
        if len(stderr.splitlines()) != 1 or not re.match(rf"lfd {args[0]}( [a-z]+)?: error: ", stderr):  # `lfd kb ask`
            problems.setdefault("wrong", f"not a one-line error: {stderr.strip()[-300:]!r}")
        if set(out_after) - set(out_before):
            problems["partial"] = f"output after an error: {sorted(p.name for p in set(out_after) - set(out_before))}"
    else:
        problems.update(check_success(case, args, out))
    return outcome


def check_success(case: dict, args: list[str], out: Path) -> dict[str, str]:
    problems = {}
    for path in out.glob("*.jsonl"):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            try:
                json.loads(line)
            except ValueError:
                problems["partial"] = f"{path.name} line {number} is not JSON"
                break
    if args[0] != "convert" or "target_info" in case:
        return problems
    merged = json.loads((out / "dataset_info.json").read_text(encoding="utf-8"))
    if not (merged.items() >= EXISTING.items() and len(merged) > len(EXISTING)):
        problems["data lost"] = f"dataset_info.json lost its entries: {sorted(merged)}"
    if "--rejects" in args:
        rejects = Path(args[args.index("--rejects") + 1])
        if rejects.exists() and not all(json.loads(line)["reason"] for line in rejects.read_text(encoding="utf-8").splitlines()):
            problems["wrong"] = f"{rejects.name}: a line without a reason"
    if case.get("leak_check"):
        key = prompt_key()
        trains = sorted(out.glob("*_train.jsonl"))
        held = {split: {key(prompt_of(json.loads(line))) for path in sorted(out.glob(f"*_{split}.jsonl"))
                        for line in path.read_text(encoding="utf-8").splitlines()} for split in ("test", "val")}
        leaked = [line for path in trains for line in path.read_text(encoding="utf-8").splitlines()
                  if key(prompt_of(json.loads(line))) in held["test"] | held["val"]]
        if leaked:
            problems["leak"] = f"{len(leaked)} training records have a test or validation prompt, e.g. {leaked[0][:120]}"
        elif held["test"] & held["val"]:
            problems["leak"] = f"{len(held['test'] & held['val'])} validation records are test items"
    return problems


def main(selected: list[str]) -> int:
    chosen = [c for c in cases() if not selected or any(part in c["id"] for part in selected)]
    totals = dict.fromkeys(KINDS, 0)
    failed = known = skipped = 0
    for case in chosen:
        with tempfile.TemporaryDirectory() as home:
            outcome = run_case(case, Path(home))
        if outcome.skipped:
            skipped += 1
        elif "known_bug" in case:  # an expected failure: counted apart, not in the totals
            known += 1
        elif outcome.problems:
            failed += 1
            for kind in outcome.problems:
                totals[kind] += 1
            print(f"{case['id']}: {outcome.report()}")
    print(f"cases {len(chosen)}, " + ", ".join(f"{kind} {totals[kind]}" for kind in KINDS)
          + f", known bugs {known}, skipped {skipped}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
