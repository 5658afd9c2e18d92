"""Input problems that name the file, the row or field, and what is wrong.

Readers collect every problem they find in a file and raise one `InputError` holding
all of them, so a planner fixes a file in one pass instead of one error per run.

`PlanCheckFailed` is here too, beside `InputError`: both are what the CLI reports, and this
layer is importable without Dagster.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input.

    `row` is the 1-based line of a CSV (header = line 1), the 1-based row of a
    spreadsheet, or the 1-based index of a record in a JSON list; None when the
    problem is about the whole file or a field of a document.
    """

    file: str
    message: str
    row: int | None = None
    field: str | None = None

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f":{self.row}"
        if self.field:
            where += f": {self.field}"
        return f"{where}: {self.message}"


class InputError(Exception):
    """Bad input: one or more problems, each naming its file, row or field."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems = list(
            dict.fromkeys(problems)
        )  # once each, in order: one cause may reach many files
        super().__init__("\n".join(str(p) for p in self.problems))


class PlanCheckFailed(Exception):
    """A blocking asset check failed: what it checked was not made from a sound plan, and
    nothing downstream of it ran (no export; the last good plan stays the latest)."""


class ProblemList(list[Problem]):
    """Collects problems while a reader works, then raises them together."""

    def add(
        self, file: str, message: str, row: int | None = None, field: str | None = None
    ) -> None:
        self.append(Problem(file=file, message=message, row=row, field=field))

    def raise_if_any(self, limit: int | None = None) -> None:
        """Raise the problems as one `InputError`; with `limit`, the first `limit` of them and
        a line counting the rest (a file broken on every row would otherwise bury its first,
        telling problem under thousands of lines)."""
        if limit is not None and len(self) > limit:
            hidden = len(self) - limit
            file = self[0].file
            del self[limit:]
            self.add(file, f"... and {hidden} more problems")
        if self:
            raise InputError(self)


def gather(*calls):
    """Run each zero-argument call, collecting every `InputError` before raising.

    Returns the calls' results in order when none failed.
    """
    results, problems = [], ProblemList()
    for call in calls:
        try:
            results.append(call())
        except InputError as error:
            problems.extend(error.problems)
            results.append(None)
    problems.raise_if_any()
    return results
