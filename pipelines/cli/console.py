"""What the CLI prints: plain text on a pipe or a file, `rich` tables on a terminal.

`emit(parts)` takes the parts of `pipelines.reports.text` (titles, headings, tables,
paragraphs, notes). When stdout is a terminal they are drawn with `rich`: tables fit the
terminal's width (text columns wrap, numbers never do; a table that cannot fit even so is
printed as one block per row), numbers right-aligned on their decimal points, and colour
only where it says something: a status `infeasible` red, `time_limit` yellow, a lever the
plan uses green. Otherwise (a pipe, a file, a test capturing stdout) the same parts are the
plain text of `render_text`: no escape codes, one line per table row, as wide as it needs.
`NO_COLOR` and `TERM=dumb` are honoured by rich.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import IO, TYPE_CHECKING

from pipelines.reports.text import (
    MARK,
    NUMBER,
    STATUS,
    Heading,
    Notes,
    Paragraph,
    Part,
    Table,
    Title,
    render_text,
)

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.text import Text

MIN_TEXT_COLUMN = 12
"""A table is drawn as a table when each text column can keep its longest word, up to this many
characters, beside its numbers; else as one block per row."""
COMFORTABLE_TEXT_COLUMN = 24
"""A text column wraps down to this width before the header of a number wraps."""
STATUS_STYLES = {"infeasible": "red", "time_limit": "yellow", "iteration_limit": "yellow"}
"""The colour of a status (the text before its reason); others have none."""
MARK_STYLES = {"yes": "green"}


def is_terminal(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or replaced stream
        return False


def emit(parts: Sequence[Part], stream: IO[str] | None = None) -> None:
    """Print the parts to `stream` (default stdout): rich on a terminal, else plain text."""
    stream = stream or sys.stdout
    if is_terminal(stream):
        console = terminal_console(stream)
        for renderable in renderables(parts, console.width):
            console.print(renderable)
    else:
        stream.write(render_text(parts))


def terminal_console(stream: IO[str], width: int | None = None) -> Console:
    """A rich console on `stream`; `width` None: the terminal's."""
    from rich.console import Console

    return Console(
        file=stream,
        width=width,
        highlight=False,
        markup=False,
        emoji=False,
        soft_wrap=False,
    )


def renderables(parts: Sequence[Part], width: int) -> list[RenderableType]:
    """The rich renderables of the parts for a terminal `width` characters wide, a blank line
    before each but the first."""
    from rich.console import Group
    from rich.text import Text

    out: list[RenderableType] = []
    for part in parts:
        if isinstance(part, Table) and not part.rows:
            continue
        if isinstance(part, Notes) and not part.lines:
            continue
        if out:
            out.append(Text(""))
        if isinstance(part, Title):
            title = Text(part.text, style="bold")
            if part.status:
                title.append(" · status ", style="bold")
                title.append(part.status, style=_status_style(part.status) or "bold")
            out.append(title)
        elif isinstance(part, Heading):
            out.append(Text(part.text, style="bold"))
        elif isinstance(part, Paragraph):
            out.append(Text(part.text))
        elif isinstance(part, Notes):
            lines = part.lines if part.lead is None else [f"- {n}" for n in part.lines]
            texts = ([Text(part.lead, style="bold")] if part.lead else []) + [
                Text(line, style="dim" if part.lead is None else "") for line in lines
            ]
            out.append(Group(*texts))
        else:
            out.append(table_renderable(part, width))
    return out


def _status_style(text: str) -> str | None:
    return STATUS_STYLES.get(text.split(":", 1)[0].strip())


def _cell(text: str, kind: str) -> Text:
    from rich.text import Text

    if kind == STATUS:
        style = _status_style(text)
        if style:
            status, _, reason = text.partition(":")
            cell = Text(status, style=style)
            if reason:
                cell.append(":" + reason)
            return cell
    if kind == MARK:
        return Text(text, style=MARK_STYLES.get(text, "dim" if text == "not in data" else ""))
    return Text(text)


def table_renderable(table: Table, width: int) -> RenderableType:
    """`table` as a rich table that fits `width`: numbers right-aligned on their decimal points
    and never wrapped nor cut; when the table is wider than `width`, the headers of the numbers
    wrap first, then the text columns. When even so the numbers and each text column's longest
    word (up to `MIN_TEXT_COLUMN` characters) cannot fit, one block per row."""
    import textwrap

    from rich import box
    from rich.table import Table as RichTable

    rows, kinds = table.aligned_rows(), table.column_kinds()
    headers = table.headers or [""] * len(kinds)
    padding = 2 * (len(kinds) - 1)  # a space after each cell, and the column rule (a space)
    natural = [
        max([len(header)] + [len(row[i]) for row in rows]) for i, header in enumerate(headers)
    ]
    narrow = [  # each column at its narrowest: a number whole, its header wrapped
        max([len(row[i]) for row in rows] + [_longest_word([header])])
        if kind == NUMBER
        else min(MIN_TEXT_COLUMN, _longest_word([row[i] for row in rows] + [header]))
        for i, (header, kind) in enumerate(zip(headers, kinds, strict=True))
    ]
    if table.headers is not None and padding + sum(narrow) > width:
        return _row_blocks(table, rows, kinds)
    # Text columns give up their width down to COMFORTABLE_TEXT_COLUMN first; past that, the
    # headers of numbers wrap, the ones that save most first; then text columns wrap further.
    widths = [
        natural[i] if kind == NUMBER else min(natural[i], COMFORTABLE_TEXT_COLUMN)
        for i, kind in enumerate(kinds)
    ]
    wrapped: set[int] = set()
    savings = sorted(
        (i for i, kind in enumerate(kinds) if kind == NUMBER), key=lambda i: narrow[i] - natural[i]
    )
    for index in savings:
        if padding + sum(widths) <= width:
            break
        if narrow[index] < natural[index]:
            widths[index] = narrow[index]
            wrapped.add(index)
    grid = RichTable(
        box=box.SIMPLE_HEAD if table.headers is not None else None,
        show_header=table.headers is not None,
        show_edge=False,
        pad_edge=False,
        padding=(0, 1, 0, 0) if table.headers is not None else (0, 2, 0, 0),
        header_style="bold",
    )
    for index, (header, kind) in enumerate(zip(headers, kinds, strict=True)):
        if kind != NUMBER:
            grid.add_column(header, justify="left", overflow="fold")
        else:
            if index in wrapped:
                header = "\n".join(textwrap.wrap(header, narrow[index])) or header
            grid.add_column(header, justify="right", no_wrap=True)
    for row in rows:
        grid.add_row(*(_cell(text, kind) for text, kind in zip(row, kinds, strict=True)))
    return grid


def _longest_word(texts: list[str]) -> int:
    return max((len(word) for text in texts for word in text.split()), default=0)


def _row_blocks(table: Table, rows: list[list[str]], kinds: list[str]) -> RenderableType:
    """A table too wide for the terminal as one block per row: a `header  value` line per column."""
    from rich.console import Group
    from rich.text import Text

    assert table.headers is not None
    label = max(len(h) for h in table.headers)
    lines: list[Text] = []
    for number, row in enumerate(rows):
        if number:
            lines.append(Text(""))
        for index, (header, text, kind) in enumerate(zip(table.headers, row, kinds, strict=True)):
            line = Text(f"{header:<{label}}  ", style="bold" if index == 0 else "dim")
            line.append_text(_cell(text.strip(), kind))
            if index == 0:
                line.stylize("bold")
            lines.append(line)
    return Group(*lines)
