"""IMCS-V2's official MRG scorer, copied verbatim for the tests: the functions ``process``, ``compute_rouge``
and ``compute_rouges`` of imcs21 task/MRG/eval_mrg.py @ 836048f491704011dba229a5bd04db5f7f4d2bbe
(https://github.com/lemuria-wchen/imcs21/blob/836048f491704011dba229a5bd04db5f7f4d2bbe/task/MRG/eval_mrg.py),
with the ``rouge`` package (rouge==1.0.1) it imports. Its ``__main__`` reads the hypothesis of each test
example as ``''.join(line.strip().split())`` of its line and the references as
``[process(sample['report'][0]), process(sample['report'][1])]``; ``compute_rouges`` prints the means.
"""
# ruff: noqa: PERF102 (the copy keeps its own style)

from rouge import Rouge


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
