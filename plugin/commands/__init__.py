"""The `lfd` commands: one module per command, named after it (`lfd tiny-model` is ``tiny_model``).

Each module has ``add_parser(subparsers)`` (which sets ``func`` to its ``run(args)``) and may have
``extend_parser(parser, argv)`` for options that depend on the arguments (a converter's own).
A command holds its command line and what only it does; what is shared lives in the library
modules of ``plugin`` (which never import a command: tests/test_architecture.py).
"""

# command -> its module, in the order `lfd --help` lists them
COMMANDS = {
    "list": "list",
    "convert": "convert",
    "eval": "eval",
    "compare": "compare",
    "register": "register",
    "tiny-model": "tiny_model",
    "stats": "stats",
    "clean": "clean",
    "fetch": "fetch",
    "dataset-info": "dataset_info",
    "demo": "demo",
    "kb": "kb",
    "judge": "judge",
    "rate": "rate",
    "synth": "synth",
    "distill": "distill",
    "webui": "webui",
}
