"""The `lfd` tool: everything between a raw file and a published score, except the converters and
evaluators themselves (their own packages).

- :mod:`.cli` and :mod:`.commands`: the command line, one module per `lfd` command;
- :mod:`.pipeline` (with :mod:`.parallel`): the `lfd convert` run, from raw records to the JSONL files;
  :mod:`.outputs`: what it writes, checked first (never over an input) and committed with its entries;
- :mod:`.io`: streaming input (one reader module per format), and output that appears whole or not at all;
- :mod:`.records` and :mod:`.dataset_info`: the example a converter yields, its rendering and its
  LLaMA-Factory ``dataset_info.json`` entry;
- :mod:`.predictions`, :mod:`.scoring` and :mod:`.statistics`: generated_predictions.jsonl read and
  checked, scored by evaluators, with bootstrap intervals and McNemar tests (`lfd eval`, `lfd compare`);
- :mod:`.report`: the JSON, HTML, Markdown and terminal reports of those scores;
- :mod:`.mcq` and :mod:`.retrieval`: logic shared by several converters (and the ``choice`` evaluator);
- :mod:`.registry`: how converters and evaluators are found by name.
"""

from pathlib import Path

# the repo root in a source checkout; the installed llamafactory_domains folder in a wheel, which
# holds recipes/ and data/samples/ too
ROOT = Path(__file__).resolve().parent.parent
RECIPES = ROOT / "recipes"
