"""Reports of scores: what `lfd eval`, `lfd compare` and `lfd demo` write and print. :mod:`.html` holds
the HTML building blocks (escaping, number formatting, sections, SVG charts, the page's CSS);
:mod:`.page` builds and renders the eval/compare page, :mod:`.overview` the demo's overview page,
:mod:`.markdown` the demo's summary.md; :mod:`.json_report` is the ``--out`` JSON and
:mod:`.terminal` the tables printed. Reports only present numbers: they come from
:mod:`..scoring` and :mod:`..statistics`, and no report module imports a command.
"""
