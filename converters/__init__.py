"""The converters: one module per raw source, each a :class:`.base.Converter` registered by its decorator.

A converter reads one raw source (Excel/CSV/JSON/JSONL/zip/Markdown, in its original bytes) and turns
each record into an example of LLaMA-Factory's alpaca, sharegpt or ChatGLM3 format; `lfd convert
NAME` runs it (see :mod:`llamafactory_domains.plugin.pipeline`). Every module here but ``base`` is
imported to find the built-ins, so a new converter is one file plus its test. Authors import
everything from :mod:`.base`.
"""
