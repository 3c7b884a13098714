"""Show a verdict on the evaluate task's own page, without the approval step.

Airflow 3.3's task SDK cannot set a task instance note (the execution API has no route for it),
and a task's ``doc_md`` is fixed when the DAG is parsed. What a task can show per run is a
rendered template field: Airflow stores rendered fields after rendering and, for an operator
with ``overwrite_rtif_after_execution``, again when the try ends (success, failure, skip or
deferral alike). So the evaluate operator keeps the verdict's Markdown summary in the template
field ``verdict_summary``; it appears under the task's "Rendered Templates" tab (Airflow 3.3
shows every field as text there, so the tables are padded to line up; Airflow 2.11 renders the
``md`` renderer as Markdown). The evaluate operator calls :func:`show_verdict` once, at the end
of ``execute``, before it fails or branches on the decision.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from collections.abc import Mapping

#: The template field holding the summary, and its renderer.
VERDICT_FIELD: Final = "verdict_summary"
VERDICT_RENDERERS: Final = {VERDICT_FIELD: "md"}

_REPORT_HINT: Final = 'Charts and all numbers: this task\'s "Shadow test report" link.'


def summary_markdown(document: Mapping[str, Any]) -> str:
    """The verdict's Markdown report with its tables aligned for a plain-text view, and where the report is."""
    report = str(document.get("report_markdown") or "").rstrip("\n")
    if not report:
        reasons = "\n".join(f"- {r}" for r in document.get("reasons") or [])
        report = f"### Shadow test verdict: {document.get('decision', '?')}\n\n{reasons}".rstrip()
    return align_tables(report) + "\n\n" + _REPORT_HINT + "\n"


def align_tables(markdown: str) -> str:
    """Pad every Markdown table's cells so the columns line up as text; the Markdown stays the same table."""
    lines = markdown.split("\n")
    out: list[str] = []
    block: list[str] = []
    for line in [*lines, ""]:
        if line.startswith("|"):
            block.append(line)
            continue
        if block:
            out.extend(_aligned(block))
            block = []
        out.append(line)
    return "\n".join(out[:-1])


def _split_row(line: str) -> list[str]:
    cells, current, escaped = [], "", False
    for ch in line.strip()[1:]:
        if ch == "|" and not escaped:
            cells.append(current.strip())
            current = ""
        else:
            current += ch
        escaped = ch == "\\" and not escaped
    return cells


def _aligned(rows: list[str]) -> list[str]:
    table = [_split_row(row) for row in rows]
    width = max(len(cells) for cells in table)
    table = [cells + [""] * (width - len(cells)) for cells in table]
    is_rule = [all(set(c) <= set(":-") and c for c in cells) for cells in table]
    sizes = [
        max(3, *(len(cells[i]) for cells, rule in zip(table, is_rule, strict=True) if not rule)) for i in range(width)
    ]
    out = []
    for cells, rule in zip(table, is_rule, strict=True):
        if rule:
            parts = [
                (":" if c.startswith(":") else "-") + "-" * (size - 2) + (":" if c.endswith(":") else "-")
                for c, size in zip(cells, sizes, strict=True)
            ]
        else:
            parts = [c.ljust(size) for c, size in zip(cells, sizes, strict=True)]
        out.append("| " + " | ".join(parts) + " |")
    return out


def show_verdict(operator: Any, document: Mapping[str, Any]) -> None:
    """Put ``document``'s summary in ``operator.verdict_summary`` (stored when the try ends)."""
    setattr(operator, VERDICT_FIELD, summary_markdown(document))
