"""The `lfd` commands: one module per command, named after it (`lfd tiny-model` is ``tiny_model``).

Each module has ``add_parser(subparsers)`` (which sets ``func`` to its ``run(args)``) and may have
``extend_parser(parser, argv)`` for options that depend on the arguments (a converter's own).
Commands hold the command line; the work is done by the modules of the ``plugin`` package.
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
    "fetch": "fetch",
    "dataset-info": "dataset_info",
    "demo": "demo",
    "webui": "webui",
}
