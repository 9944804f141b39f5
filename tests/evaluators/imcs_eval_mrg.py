"""IMCS-V2's official MRG scorer, copied verbatim for the tests: the functions ``process``, ``compute_rouge``
and ``compute_rouges`` of imcs21 task/MRG/eval_mrg.py @ 836048f491704011dba229a5bd04db5f7f4d2bbe
(https://github.com/lemuria-wchen/imcs21/blob/836048f491704011dba229a5bd04db5f7f4d2bbe/task/MRG/eval_mrg.py),
with the ``rouge`` package (rouge==1.0.1) it imports. Its ``__main__`` reads the hypothesis of each test
example as ``''.join(line.strip().split())`` of its line and the references as
``[process(sample['report'][0]), process(sample['report'][1])]``; ``compute_rouges`` prints the means.

The ``rouge`` package is the copy of rouge 1.0.1 in ``vendor/rouge/`` (its three modules byte for byte,
sha256 as in the wheel's RECORD; Apache-2.0, LICENSE beside them), not an installed one: rouge-chinese,
which LLaMA-Factory needs, ships a modified ``rouge/`` of its own into the same site-packages folder,
so which ``import rouge`` a fresh install gives depends on the order the two were unpacked.
"""
# ruff: noqa: PERF102 (the copy keeps its own style)

import hashlib
import importlib.util
import sys
from pathlib import Path

VENDOR = Path(__file__).parent / "vendor" / "rouge"
RECORD = {  # rouge-1.0.1.dist-info/RECORD, as hex
    "__init__.py": "75c480826661fa25df62a57e4ccfc5240f86ae0df49c9ec0e8cbfc87fd3a5101",
    "rouge.py": "8f97599be50cc8897c3801ecb33773392f6399db9ad0219fb2dd93aeab0c5c53",
    "rouge_score.py": "8ee6d532297568be63d6ed84d2c1cdda3050fcc466f1c4308d83fa028d5b162d",
}


def _vendored_rouge():
    """The vendored rouge 1.0.1 as ``rouge`` (its modules import themselves by that name)."""
    for name, digest in RECORD.items():
        assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == digest, f"vendor/rouge/{name} changed"
    for name in [key for key in sys.modules if key == "rouge" or key.startswith("rouge.")]:
        del sys.modules[name]  # an installed rouge (or rouge-chinese's copy) must not answer
    spec = importlib.util.spec_from_file_location("rouge", VENDOR / "__init__.py", submodule_search_locations=[str(VENDOR)])
    module = importlib.util.module_from_spec(spec)
    sys.modules["rouge"] = module
    spec.loader.exec_module(module)
    return module


Rouge = _vendored_rouge().Rouge


# ---- verbatim from eval_mrg.py (lines 19-59) ----
def process(title, delimiter=''):
    x = []
    for key, value in title.items():
        x.append(key + '：' + value)
    return delimiter.join(x)


def compute_rouge(source, targets):
    try:
        r1, r2, rl = 0, 0, 0
        n = len(targets)
        for target in targets:
            source, target = ' '.join(source), ' '.join(target)
            scores = Rouge().get_scores(hyps=source, refs=target)
            r1 += scores[0]['rouge-1']['f']
            r2 += scores[0]['rouge-2']['f']
            rl += scores[0]['rouge-l']['f']
        return {
            'rouge-1': r1 / n,
            'rouge-2': r2 / n,
            'rouge-l': rl / n,
        }
    except ValueError:
        return {
            'rouge-1': 0.0,
            'rouge-2': 0.0,
            'rouge-l': 0.0,
        }


def compute_rouges(sources, targets):
    scores = {
        'rouge-1': 0.0,
        'rouge-2': 0.0,
        'rouge-l': 0.0,
    }
    for source, target in zip(sources, targets):
        score = compute_rouge(source, target)
        for k, v in scores.items():
            scores[k] = v + score[k]
    print({k: v / len(targets) for k, v in scores.items()})
# ---- end of the verbatim copy ----


def preds_and_golds(gold_data, pred_lines):
    """What eval_mrg.py's ``__main__`` hands to ``compute_rouges`` (its lines 82-96, verbatim but for
    the reading): ``gold_data`` as its ``load_json`` returns it, ``pred_lines`` the prediction file's lines."""
    golds = []
    for pid, sample in gold_data.items():
        title1, title2 = sample['report'][0], sample['report'][1]
        golds.append([process(title1), process(title2)])

    preds = []
    for line in pred_lines:
        preds.append(''.join(line.strip().split()))
    return preds, golds
