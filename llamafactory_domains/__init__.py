"""llamafactory-domains: raw Chinese domain data -> LLaMA-Factory datasets, recipes and honest scores.

The one import name this package installs. Its sub-packages:

- ``llamafactory_domains.plugin``: the ``lfd`` tool (commands, readers and writers, reports, statistics);
- ``llamafactory_domains.converters``: one module per raw source; authors import from ``.converters.base``;
- ``llamafactory_domains.evaluators``: one module per scorer; authors import from ``.evaluators.base``.

In a wheel they are installed inside this folder (with ``recipes/`` and ``data/samples/``). In a source checkout (the editable install, the tests) they are the repo's
top-level folders beside this one, so this package's path is the repo root.
"""

from pathlib import Path

_HERE = Path(__file__).resolve().parent
if not (_HERE / "plugin").is_dir():  # a source checkout: plugin/, converters/, evaluators/ sit beside this folder
    __path__ = [str(_HERE.parent)]
