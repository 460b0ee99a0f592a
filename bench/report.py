"""One summary table across every benchmark: each bench records its rows here, run.py prints.

A bench keeps printing its own detail; this module only collects the headline figures
(figure, same-run baseline, ratio, the target from the issue, met or not) so that
``make bench`` ends with one table to paste into a closing note. A bench that cannot run
records a SKIPPED row with the reason instead of silently vanishing from the table.
"""

from __future__ import annotations

from dataclasses import dataclass

MET, MISSED, SKIPPED, INFO = "MET", "MISSED", "SKIPPED", "-"
COLUMNS = ("benchmark", "measurement", "figure", "baseline", "ratio", "target", "result")


@dataclass(frozen=True)
class Row:
    bench: str
    measurement: str
    value: str
    baseline: str
    ratio: str
    target: str
    met: bool | None  # None: information only (or skipped)
    skipped: str = ""  # the reason, when the bench could not run

    @property
    def result(self) -> str:
        if self.skipped:
            return f"{SKIPPED}: {self.skipped}"
        if self.met is None:
            return INFO
        return MET if self.met else MISSED


ROWS: list[Row] = []


def _text(value: object, unit: str = "") -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, float):
        return f"{value:,.2f}{unit}"
    if isinstance(value, int):
        return f"{value:,}{unit}"
    return str(value)


def record(bench: str, measurement: str, value: object, baseline: object = None,
           ratio: float | None = None, target: str = "", met: bool | None = None,
           unit: str = "") -> Row:
    """Add one row; ``value``/``baseline`` are numbers (shown with ``unit``) or ready text."""
    row = Row(bench, measurement, _text(value, unit), _text(baseline, unit),
              "" if ratio is None else f"{ratio:.2f}×", target, met)
    ROWS.append(row)
    return row


def skipped(bench: str, reason: str, measurement: str = "(all)") -> Row:
    row = Row(bench, measurement, "", "", "", "", None, skipped=reason or "unknown reason")
    ROWS.append(row)
    return row


def at_most(figure: float, limit: float) -> bool:
    return figure <= limit


def at_least(figure: float, limit: float) -> bool:
    return figure >= limit


def reset() -> None:
    ROWS.clear()


def _width(text: str) -> int:
    """Display width: CJK characters take two terminal columns."""
    return sum(2 if ord(ch) >= 0x1100 and not 0x2000 <= ord(ch) < 0x2100 else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def table(rows: list[Row] | None = None) -> str:
    """The rows as an aligned plain-text table, with a tally of MET/MISSED/SKIPPED last."""
    rows = ROWS if rows is None else rows
    cells = [COLUMNS] + [(r.bench, r.measurement, r.value, r.baseline, r.ratio, r.target, r.result)
                         for r in rows]
    widths = [max(_width(row[i]) for row in cells) for i in range(len(COLUMNS))]
    lines = ["  ".join(_pad(c, w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    tally = {name: sum(r.result.split(":")[0] == name for r in rows) for name in (MET, MISSED, SKIPPED)}
    lines.append(f"{tally[MET]} met, {tally[MISSED]} missed, {tally[SKIPPED]} skipped")
    return "\n".join(lines)
