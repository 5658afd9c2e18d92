"""One module per `tokenplan` command.

A command module has a docstring (its help), `add_arguments(parser)` and
`run(args) -> exit code`; `pipelines.cli.main` finds every such module here.
Options several commands share are in `options.py`.
"""
