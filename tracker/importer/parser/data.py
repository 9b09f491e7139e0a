"""What a notice reads as: plain dataclasses, no ORM (the loader turns them into rows)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

# Data
# --------------------------------------------------------------------------------------------


@dataclass
class ParsedProblem:
    label: str | None
    title: str
    kind: str = "problem"
    status: str | None = None
    status_text: str | None = None
    task_type: str | None = None
    detail: str = ""
    measures: list[str] = field(default_factory=list)
    line: int = 0
    children: list[ParsedProblem] = field(default_factory=list)

    def iter_leaves(self):
        if self.kind != "category" and not self.children:
            yield self
        for child in self.children:
            yield from child.iter_leaves()

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"label": self.label, "title": self.title}
        if self.kind == "category":
            out["kind"] = "category"
        out["status"] = self.status
        out["children"] = [c.to_json() for c in self.children]
        return out


@dataclass
class ParsedInspection:
    organization: str
    aliases: list[str] = field(default_factory=list)
    level: str | None = None
    term: str | None = None
    round_no: str | None = None
    round: str | None = None
    group: str | None = None
    kind: str | None = None
    start: str | None = None
    end: str | None = None
    feedback: datetime.date | None = None
    declared: dict[str, int | float] = field(default_factory=dict)
    problems: list[ParsedProblem] = field(default_factory=list)
    # One round over many organizations reported by its totals ("对…等12个党组织开展了巡察"):
    # no problems of its own; declared["units"] says how many organizations.
    rollup: bool = False

    @property
    def leaf_problems(self) -> int:
        return sum(1 for p in self.problems for _ in p.iter_leaves())

    def iter_leaves(self):
        for p in self.problems:
            yield from p.iter_leaves()

    def to_json(self) -> dict[str, Any]:
        return {
            "organization": self.organization,
            "round": self.round,
            "group": self.group,
            "start": self.start,
            "end": self.end,
            "feedback": self.feedback.isoformat() if self.feedback else None,
            "declared": dict(self.declared),
            "problems": [p.to_json() for p in self.problems],
            "leaf_problems": self.leaf_problems,
        }


class ParseWarning(str):
    """A warning about what was read: its (translated) text as stored with the notice, the line
    of the notice it is about (``line``; None when no one line is), and ``message``, the text
    without the line where the stored text names it too."""

    line: int | None
    message: str

    def __new__(
        cls, text: str, *, line: int | None = None, message: str | None = None
    ) -> ParseWarning:
        self = super().__new__(cls, text)
        self.line = line
        self.message = message if message is not None else text
        return self


@dataclass
class ParsedNotice:
    name: str
    title: str | None = None
    # The line the title was printed on; None when the notice prints none and the title was
    # composed from its signature, round and what it says it publishes.
    title_line: int | None = None
    issuer: str | None = None
    published: datetime.date | None = None
    inspections: list[ParsedInspection] = field(default_factory=list)
    warnings: list[ParseWarning] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "published": self.published.isoformat() if self.published else None,
            "inspections": [i.to_json() for i in self.inspections],
        }
