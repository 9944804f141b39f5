"""Inputs converted in parallel parts (plugin/converted.py, plugin/parts.py) write the bytes of one process.

Every combination of --limit, --test-size, --val-size, --rejects, one or two input files, and a JSON
array, JSONL or GB18030 CSV (quoted fields with newlines, ragged rows, Excel's #N/A) is converted twice:
in one process (no file is big enough to split) and in parts (every file is); the train/test/val files, dataset_info.json,
the rejects and the printed summary must be the same bytes.
"""

import csv
import io
import itertools
import json

import pytest
from llamafactory_domains.plugin import converted, parallel
from llamafactory_domains.plugin.io import json_files


def records(count, seed):
    """ModelScope records with skips (empty answers, asks of 无), duplicates and newlines in texts."""
    out = []
    for i in range(count):
        title, ask, answer = f"头痛{seed}-{i % 997}", f"最近头晕\n怎么办{i}", f"多休息{i % 13}"
        if i % 41 == 5:
            answer = ""
        if i % 53 == 7:
            ask = "无"
        if i % 17 == 3:
            title, ask = f"头痛{seed}-0", "最近头晕\n怎么办0"  # the same prompt as record 0
        out.append({"instruction": title, "input": ask, "output": answer, "history": None})
    return out


def write(path, kind, rows):
    if kind == "array":
        path.write_text(json.dumps(rows, ensure_ascii=False, indent=4), encoding="utf-8")
    elif kind == "jsonl":
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    else:
        text = io.StringIO(newline="")
        writer = csv.writer(text)
        writer.writerow(["department", "title", "ask", "answer"])
        for i, r in enumerate(rows):
            writer.writerow([f"内科{i % 3}", r["instruction"], r["input"] + ('，说"疼"' if i % 5 == 0 else ""),
                             r["output"]])
            if i % 97 == 11:
                writer.writerow(["内科", "短"])  # a ragged row: a skip with its line
            if i % 89 == 13:
                writer.writerow(["内科", r["instruction"], "#N/A", r["output"]])  # Excel's failed formula: a skip
        path.write_bytes(text.getvalue().encode("gb18030"))


SUFFIX = {"array": ".json", "jsonl": ".jsonl", "csv": ".csv"}
OPTIONS = {"limit": ["--limit", "700"], "test": ["--test-size", "60"], "val": ["--val-size", "40"],
           "rejects": ["--rejects", "{out}/rejects.jsonl"]}


@pytest.fixture
def inputs(tmp_path):
    made = {}
    for kind in SUFFIX:
        made[kind] = []
        for n in (1, 2):
            path = tmp_path / f"in{n}{SUFFIX[kind]}"
            path = tmp_path / kind / path.name
            path.parent.mkdir(exist_ok=True)
            write(path, kind, records(1500, n))
            made[kind].append(path)
    return made


def run_both(lfd, tmp_path, monkeypatch, argv_tail, inputs):
    """(outputs, summary) of the one-process run and of the run in parts."""
    results, used = [], []
    real = converted._convert_all

    def spy(*args):
        result = real(*args)
        used.append(result is not None)
        return result

    monkeypatch.setattr(converted, "_convert_all", spy)
    monkeypatch.setattr(parallel, "usable_cpus", lambda: 3)
    for label, minimum in (("serial", 1 << 62), ("parts", 0)):
        monkeypatch.setattr(json_files, "PART_MIN_BYTES", minimum)
        out = tmp_path / f"out_{label}"
        tail = [a.replace("{out}", str(out)) for a in argv_tail]
        code, stdout, stderr = lfd("convert", "med_dialog", *inputs, *tail, "--out-dir", out)
        files = {p.name: p.read_bytes() for p in sorted(out.iterdir()) if p.is_file()} if out.exists() else {}
        results.append((code, stdout.replace(str(out), "OUT"), stderr.replace(str(out), "OUT"),
                        {name: data.replace(str(out).encode(), b"OUT") for name, data in files.items()}))
    return results, used


COMBOS = [combo for n in range(len(OPTIONS) + 1) for combo in itertools.combinations(OPTIONS, n)]


@pytest.mark.parametrize("kind", list(SUFFIX))
@pytest.mark.parametrize("files", [1, 2])
@pytest.mark.parametrize("combo", COMBOS, ids=lambda c: "+".join(c) or "plain")
def test_parts_write_the_bytes_of_one_process(lfd, tmp_path, monkeypatch, inputs, kind, files, combo):
    argv = [a for name in combo for a in OPTIONS[name]]
    (serial, parts), used = run_both(lfd, tmp_path, monkeypatch, argv, inputs[kind][:files])
    assert serial[0] == 0, serial[2]
    assert parts == serial
    if combo or kind == "csv":  # the other runs are plugin/parallel.py's (tests/plugin/test_properties.py)
        assert used == [True], "the run in parts fell back to one process"
    if "rejects" in combo:
        rejects = [json.loads(line) for line in serial[3]["rejects.jsonl"].decode().splitlines()]
        assert any(r["location"] and r["file"].endswith(f"in{files}{SUFFIX[kind]}") for r in rejects)


TEST_FILE_COMBOS = [combo for n in range(3) for combo in itertools.combinations(("limit", "val", "rejects"), n)
                    if combo != ()]  # --test FILE alone is plugin/parallel.py's


@pytest.mark.parametrize("kind", list(SUFFIX))
@pytest.mark.parametrize("combo", TEST_FILE_COMBOS, ids="+".join)
def test_test_files_with_options_write_the_bytes_of_one_process(lfd, tmp_path, monkeypatch, inputs, kind, combo):
    """--test FILE (read in the parent, first) with the other options: its items, their normalized
    copies in the inputs left out, its own rejects first, all as one process writes them."""
    rows = records(300, 1)[::5]  # prompts that are also in the first input: left out of training
    rows[1] = {**rows[1], "output": ""}  # a skipped test record: a reject of the test file
    test = tmp_path / f"test_split{SUFFIX[kind]}"
    write(test, kind, rows)
    argv = ["--test", str(test), *(a for name in combo for a in OPTIONS[name])]
    (serial, parts), used = run_both(lfd, tmp_path, monkeypatch, argv, inputs[kind][:1])
    assert serial[0] == 0, serial[2]
    assert parts == serial and used == [True]
    test_summary = serial[2].split("test: read ", 1)[1]
    assert "prompt also in the test split" in serial[2] and "empty answer" in test_summary


def dirty(rows):
    """The rows with personal data, junk and placeholder answers for --clean to mask, remove and skip."""
    out = []
    for i, r in enumerate(rows):
        r = dict(r)
        if i % 7 == 1:
            r["input"] += f"，我的电话13812{i % 1000:03d}678，患者王小明"
        if i % 11 == 2:
            r["output"] += "！！！<br>详见http://x.cn/a点击咨询"
        if i % 29 == 4:
            r["output"] = "略"
        out.append(r)
    return out


@pytest.mark.parametrize("kind", list(SUFFIX))
@pytest.mark.parametrize("extra", [[], ["--test-size", "60", "--rejects", "{out}/r.jsonl"], ["--limit", "500"]],
                         ids=["plain", "test+rejects", "limit"])
def test_clean_in_parts_writes_the_bytes_and_counts_of_one_process(lfd, tmp_path, monkeypatch, kind, extra):
    """--clean runs in the workers: the masked lines, the skips and the counts of changes are one process's."""
    src = tmp_path / f"dirty{SUFFIX[kind]}"
    write(src, kind, dirty(records(1500, 1)))
    (serial, parts), used = run_both(lfd, tmp_path, monkeypatch, ["--clean", *extra], [src])
    assert serial[0] == 0, serial[2]
    assert parts == serial
    assert used == ([True] if extra or kind == "csv" else [])
    assert "cleaned (--clean): " in serial[2] and "privacy:电话" in serial[2] and "url" in serial[2]
    assert "--clean: the answer is empty or a placeholder" in serial[2]
    train = serial[3]["med_dialog_train.jsonl"].decode()
    assert "13812" not in train and "[电话]" in train and "[姓名]" in train and "http" not in train


@pytest.mark.parametrize("kind", list(SUFFIX))
def test_reject_locations_are_those_of_the_whole_file(lfd, tmp_path, monkeypatch, inputs, kind):
    """The rejects of the last part name lines (and records) far beyond the part's start."""
    (serial, parts), _ = run_both(lfd, tmp_path, monkeypatch, ["--test-size", "30", "--rejects", "{out}/r.jsonl"],
                                  inputs[kind][:1])
    assert parts == serial
    locations = [json.loads(line)["location"] for line in parts[3]["r.jsonl"].decode().splitlines()]
    numbers = [int(loc.rsplit(" ", 1)[-1].strip("()")) for loc in locations]
    assert max(numbers) > 1000 if kind != "array" else max(numbers) > 5000  # lines; records: > 1000
    if kind == "csv":  # a reader's skip keeps its record: the #N/A rows, from every part
        excel = [json.loads(line) for line in parts[3]["r.jsonl"].decode().splitlines() if "Excel error" in line]
        assert len(excel) == 17 and all(reject["record"]["ask"] == "#N/A" for reject in excel)


@pytest.mark.parametrize("kind", list(SUFFIX))
@pytest.mark.parametrize("extra", [[], ["--test-size", "100"], ["--test-size", "100", "--val-size", "50"]])
def test_limit_writes_exactly_n(lfd, tmp_path, monkeypatch, inputs, kind, extra):
    (serial, parts), used = run_both(lfd, tmp_path, monkeypatch, ["--limit", "900", *extra], inputs[kind])
    assert parts == serial and used == [True]
    assert parts[3]["med_dialog_train.jsonl"].count(b"\n") == 900


def test_a_split_inside_a_quoted_field_falls_back_to_one_process(lfd, tmp_path, monkeypatch):
    """A quote inside an unquoted field throws the quote count off: the part before a wrong split point
    ends inside a quoted field, and the file is read whole, with the same output."""
    rows = records(400, 1)
    text = io.StringIO(newline="")
    writer = csv.writer(text)
    writer.writerow(["department", "title", "ask", "answer"])
    text.write('内科,5"高,问题,回答\n')  # a lone quote inside an unquoted field: literal for csv
    for r in rows:
        writer.writerow(["内科", r["instruction"], r["input"], r["output"]])
    src = tmp_path / "odd.csv"
    src.write_bytes(text.getvalue().encode("gb18030"))
    (serial, parts), used = run_both(lfd, tmp_path, monkeypatch, ["--test-size", "10"], [src])
    assert parts == serial and serial[0] == 0
    assert used == [False], "a wrong split point was not caught"


@pytest.mark.parametrize("kind", list(SUFFIX))
def test_nothing_left_names_the_first_skip_as_one_process_does(lfd, tmp_path, monkeypatch, kind):
    """Every training record is a test item: the error names the first left-out record, located in the
    whole file (worked out again from its part only for the message)."""
    rows = [{"instruction": "头痛", "input": "怎么办", "output": f"休息{i}", "history": None} for i in range(900)]
    src = tmp_path / f"same{SUFFIX[kind]}"
    if kind == "csv":
        src.write_bytes(("department,title,ask,answer\n" + "".join(f'内科,头痛,"怎么\n办",休息{i}\n' for i in range(900)))
                        .encode("gb18030"))
    else:
        write(src, kind, rows)
    (serial, parts), used = run_both(lfd, tmp_path, monkeypatch, ["--test-size", "1"], [src])
    assert serial[0] == 1 and "the first is" in serial[2] and "line" in serial[2]
    assert parts == serial and used == [True]
