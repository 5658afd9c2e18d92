"""The `tokenplan` command line: plan an AI inference data center for the lowest cost per token.

Exit codes: 0 done, 1 infeasible or no plan within the time limit (the reason on stderr), 2 bad
input (file, row or field, and what is wrong, on stderr).

Bad input is also: an option's value out of its range (`pipelines.cli.options`: every bad option
is listed, then SystemExit(2), as argparse's own usage errors), a folder that cannot be written,
and any `OSError` reading inputs or writing outputs (the path and the system's message). A reader
that closes the pipe early (`tokenplan plan --json | head -1`) ends the output quietly with exit
0, since every command prints only after its work is done and kept: the reader chose to stop
reading, nothing failed.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys

import pipelines.cli.commands
from pipelines.cli import options
from pipelines.contract.errors import InputError, PlanCheckFailed, Problem

EXIT_OK, EXIT_INFEASIBLE, EXIT_BAD_INPUT = 0, 1, 2


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return EXIT_BAD_INPUT
    problems = options.bad_options(args)
    if problems:
        _print_problems(problems)
        raise SystemExit(EXIT_BAD_INPUT)
    from optimizer.errors import Infeasible, NoPlanInTime

    try:
        code = args.run(args)
        sys.stdout.flush()  # so that a closed pipe shows here, not as "Exception ignored" at exit
        return code
    except BrokenPipeError:
        _discard_stdout()
        return EXIT_OK
    except Infeasible as error:
        print(f"tokenplan: infeasible: {error.reason}", file=sys.stderr)
        return EXIT_INFEASIBLE
    except NoPlanInTime as error:
        print(f"tokenplan: no plan: {error} (raise --time-limit)", file=sys.stderr)
        return EXIT_INFEASIBLE
    except PlanCheckFailed as error:
        print(
            f"tokenplan: the plan failed a blocking check, so it was neither exported nor kept "
            f"(the last good plan stays the latest): {error}",
            file=sys.stderr,
        )
        return EXIT_INFEASIBLE
    except InputError as error:
        _print_problems(error.problems)
        return EXIT_BAD_INPUT
    except (
        OSError
    ) as error:  # reading an input or writing an output: permission denied, is a folder, disk full
        _print_problems([_os_problem(error)])
        return EXIT_BAD_INPUT


def _print_problems(problems: list[Problem]) -> None:
    count = len(problems)
    print(f"tokenplan: bad input ({count} problem{'s' * (count != 1)}):", file=sys.stderr)
    for problem in problems:
        print(f"  {problem}", file=sys.stderr)


def _os_problem(error: OSError) -> Problem:
    """The path of an `OSError` (both of a rename) and the system's message."""
    if error.filename is None:
        where = "an input or output file"
    else:
        where = str(error.filename) + (
            f" -> {error.filename2}" if error.filename2 is not None else ""
        )
    return Problem(where, error.strerror or str(error))


def _discard_stdout() -> None:
    """After the reader closed stdout: send what is still buffered to /dev/null, so that Python's
    flush at exit does not fail again (the recipe of the `signal` module's documentation)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # stdout is not a file (a test's capture)
        pass


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tokenplan", description=__doc__.splitlines()[0].split(": ", 1)[1]
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(pipelines.cli.commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"pipelines.cli.commands.{info.name}")
        if not hasattr(module, "run"):
            continue
        help_text = (module.__doc__ or "").strip()
        command = commands.add_parser(info.name, help=help_text, description=help_text)
        module.add_arguments(command)
        command.set_defaults(run=module.run)
    return parser


if __name__ == "__main__":
    sys.exit(main())
