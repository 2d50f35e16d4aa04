"""The one table `python -m bench` prints (and the same rows as JSON)."""

from __future__ import annotations

from collections.abc import Sequence

from bench.common import Row


def _fmt(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 10 else f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def table(rows: Sequence[Row], markdown: bool = False) -> str:
    header = ("section", "metric", "value", "unit", "floor (same run)", "ratio", "note")
    body = [
        (
            row.section,
            row.metric,
            _fmt(row.value),
            row.unit,
            "" if row.floor is None else f"{_fmt(row.floor)} ({row.floor_label})",
            "" if row.ratio is None else f"{row.ratio:.2f}x",
            row.note,
        )
        for row in rows
    ]
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
        lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in line) + " |" for line in body]
        return "\n".join(lines)
    widths = [max(len(line[i]) for line in (header, *body)) for i in range(len(header) - 1)]
    def render(line: Sequence[str]) -> str:
        return "  ".join(cell.ljust(widths[i]) if i < len(widths) else cell for i, cell in enumerate(line)).rstrip()
    rule = "-" * (sum(widths) + 2 * len(widths) + 20)
    return "\n".join([render(header), rule, *(render(line) for line in body)])
