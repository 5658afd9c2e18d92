"""The `tokenplan` command line: plan an AI inference data center for the lowest cost per token.

Exit codes: 0 done, 1 infeasible or no plan within the time limit (the reason on stderr), 2 bad input (file, row or
field, and what is wrong, on stderr).
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

import pipelines.commands
from pipelines.errors import InputError

EXIT_OK, EXIT_INFEASIBLE, EXIT_BAD_INPUT = 0, 1, 2


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return EXIT_BAD_INPUT
    from optimizer.solve import Infeasible

    try:
        return args.run(args)
    except Infeasible as error:
        print(f"tokenplan: infeasible: {error.reason}", file=sys.stderr)
        return EXIT_INFEASIBLE
    except TimeoutError as error:
        print(f"tokenplan: no plan: {error} (raise --time-limit)", file=sys.stderr)
        return EXIT_INFEASIBLE
    except InputError as error:
        count = len(error.problems)
        print(f"tokenplan: bad input ({count} problem{'s' * (count != 1)}):", file=sys.stderr)
        for problem in error.problems:
            print(f"  {problem}", file=sys.stderr)
        return EXIT_BAD_INPUT


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tokenplan", description=__doc__.splitlines()[0].split(": ", 1)[1])
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(pipelines.commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"pipelines.commands.{info.name}")
        if not hasattr(module, "run"):
            continue
        help_text = (module.__doc__ or "").strip()
        command = commands.add_parser(info.name, help=help_text, description=help_text)
        module.add_arguments(command)
        command.set_defaults(run=module.run)
    return parser


if __name__ == "__main__":
    sys.exit(main())
