"""The reader: the passes in order, turning the heading tree into categories and problems, and
the warnings about what was read."""

from __future__ import annotations

import re

from ..numerals import parse_number
from ..text import fold_status, fold_task_type
from .data import ParsedInspection, ParsedNotice, ParsedProblem, ParseWarning
from .decoding import NoticeParseError, _
from .facts import _declared, _facts, _organization
from .frame import _Frame, _segments, split_lines
from .headings import _body_status, _Line, _Node, _tail_status
from .patterns import (
    _ALIAS_RE,
    _BODY_MARKER_RE,
    _NEG_RE,
    _PUBLISHES_RE,
    _ROLLUP_RE,
    _STATUS_FIELD_RE,
    _STATUS_ONLY_RE,
)
from .titles import _clean_title, _extract_measures, _is_wrapper_title, _unwrap_title
from .tree import _evidence, _is_category, _is_closing, _is_explicit, _is_lead, _tree


def _all_text(node: _Node) -> list[str]:
    out = [node.text, *node.body] if node.text else list(node.body)
    for c in node.children:
        out.extend(_all_text(c))
    return out


class _NoticeReader:
    def __init__(self, text: str, name: str):
        self.name = name
        self.notice = ParsedNotice(name=name)
        self.lines: list[_Line] = split_lines(text)
        self.signature: str | None = None
        self.nonproblem: list[str] = []
        self.intro = ""
        # Per inspection (by id): the line each declared total was read from.
        self.declared_lines: dict[int, dict[str, int | None]] = {}

    def _problems(self, root: _Node) -> list[ParsedProblem]:
        out: list[ParsedProblem] = []
        for t in root.tables:
            out.extend(t.items())
        if _evidence(root):
            out.extend(self._unknown_level(root.children))
        else:
            out.extend(self._fallback(root.children))
        return out

    def _unknown_level(self, nodes: list[_Node]) -> list[ParsedProblem]:
        """Siblings of which some are preamble, wrappers, closing, categories or problems."""
        out: list[ParsedProblem] = []
        kinds: list[str] = []
        for node in nodes:
            if _is_closing(node):
                kinds.append("closing")
            elif _is_lead(node):
                kinds.append("lead")
            elif _is_category(node):
                kinds.append("category")
            elif _is_wrapper_title(node.sentence) and node.children:
                kinds.append("wrapper")
            elif _is_explicit(node):
                kinds.append("problem")
            elif _evidence(node):
                # A shortcoming whose sub-headings are problems is a problem with sub-problems
                # ("1.党建工作不到位。" over "(1)针对…问题"); anything else holding problems is a
                # wrapper section ("二、整改落实情况").
                if _NEG_RE.search(node.sentence) and any(_is_explicit(c) for c in node.children):
                    kinds.append("problem")
                else:
                    kinds.append("wrapper")
            else:
                kinds.append("other")
        # A heading between problems is a problem too, even without a wrapper of its own.
        marked = [k for k, kind in enumerate(kinds) if kind in ("problem", "category")]
        if len(marked) >= 2:
            for k in range(marked[0], marked[-1]):
                if kinds[k] == "other":
                    kinds[k] = "problem"
        for node, kind in zip(nodes, kinds, strict=True):
            if kind == "category":
                out.append(self._category(node))
            elif kind == "problem":
                out.append(self._problem(node))
            elif kind == "wrapper":
                self._collect_text(node, own_only=True)
                for t in node.tables:
                    out.extend(t.items())
                out.extend(self._wrapper_children(node.children))
            else:
                self._collect_text(node)
        return out

    def _wrapper_children(self, nodes: list[_Node]) -> list[ParsedProblem]:
        out: list[ParsedProblem] = []
        for node in nodes:
            if _is_closing(node) or _is_lead(node):
                self._collect_text(node)
            elif _is_category(node):
                out.append(self._category(node))
            elif _is_wrapper_title(node.sentence) and node.children:
                self._collect_text(node, own_only=True)
                out.extend(self._wrapper_children(node.children))
            else:
                out.append(self._problem(node))
        return out

    def _fallback(self, nodes: list[_Node]) -> list[ParsedProblem]:
        """No heading says it is a problem: read shortcomings (不到位, 缺乏 …) as problems."""

        def negative(node: _Node) -> bool:
            return bool(_NEG_RE.search(node.sentence))

        live = [n for n in nodes if not _is_closing(n) and not _is_lead(n)]
        out: list[ParsedProblem] = []
        wrappers = []
        for node in live:
            kids = [c for c in node.children if not _is_closing(c) and not _is_lead(c)]
            if kids and sum(map(negative, kids)) * 2 >= len(kids):
                wrappers.append(node)
        if wrappers:
            for node in nodes:
                if node in wrappers:
                    self._collect_text(node, own_only=True)
                    out.extend(self._wrapper_children(node.children))
                else:
                    self._collect_text(node)
            return out
        negatives = [k for k, n in enumerate(nodes) if n in live and negative(n)]
        if negatives and len(negatives) * 2 >= len(live):
            first, last = negatives[0], negatives[-1]
            for k, node in enumerate(nodes):
                if first <= k <= last and node in live:
                    out.append(self._problem(node))
                else:
                    self._collect_text(node)
            return out
        for node in nodes:
            self._collect_text(node)
        return out

    def _collect_text(self, node: _Node, own_only: bool = False) -> None:
        self.nonproblem.append(node.text)
        self.nonproblem.extend(node.body)
        if not own_only:
            for c in node.children:
                self._collect_text(c)

    # -- converting nodes ---------------------------------------------------------------------
    def _category(self, node: _Node) -> ParsedProblem:
        children: list[ParsedProblem] = []
        for t in node.tables:
            children.extend(t.items())
        children.extend(self._wrapper_children(node.children))
        return ParsedProblem(
            label=node.label,
            title=_clean_title(node.sentence),
            kind="category",
            detail="\n".join(x for x in [node.head[1], *node.body] if x),
            line=node.line,
            children=children,
        )

    def _problem(self, node: _Node) -> ParsedProblem:
        first, rest, _brackets = node.head
        words = node.status_words()
        if not any(fold_status(w) for w in words):
            tail = _tail_status(node) or _body_status(node)
            if tail:
                words.append(tail)
        status = status_text = task_type = None
        for w in words:
            st = fold_status(w)
            if st and status is None:
                status, status_text = st, _STATUS_FIELD_RE.sub(r"\1", w).split(",")[0]
                # A bracket may hold "已完成,立行立改": keep the status word only.
                for part in re.split(r"[,、;/]", w):
                    if fold_status(part):
                        status_text = part.strip()
                        break
            tt = fold_task_type(w)
            if tt and task_type is None:
                task_type = tt
        if task_type is None and status == "long_term":
            task_type = "long_term"
        detail_parts: list[str] = []
        if rest and not _STATUS_ONLY_RE.match(rest):
            detail_parts.append(rest)
        for line in node.body:
            detail_parts.append(_BODY_MARKER_RE.sub("", line, count=1) or line)
        measures: list[str] = []
        for part in detail_parts:
            measures.extend(_extract_measures(part))
        children: list[ParsedProblem] = []
        for t in node.tables:
            children.extend(t.items())
        for c in node.children:
            if _is_closing(c):
                self._collect_text(c)
            elif _is_explicit(c):
                children.append(self._problem(c))
            else:
                # A sub-heading that does not say it is a problem is a measure.
                title = _clean_title(c.sentence)
                if title:
                    measures.append(title)
                detail_parts.append(c.text)
                detail_parts.extend(c.body)
                for g in c.children:
                    detail_parts.append(g.text)
                    detail_parts.extend(g.body)
        title = _unwrap_title(first)
        return ParsedProblem(
            label=node.label,
            title=title,
            kind="problem",
            status=status,
            status_text=status_text,
            task_type=task_type,
            detail="\n".join(detail_parts),
            measures=measures,
            line=node.line,
            children=children,
        )

    # -- main -----------------------------------------------------------------------------------
    def read(self) -> ParsedNotice:
        notice = self.notice
        frame = _Frame(self.lines, notice)
        content = frame.content()
        self.signature = frame.signature
        segments = _segments(content)
        title = notice.title or ""
        if segments[0].org is None and len(segments) == 1:
            intro_lines, root, closing = _tree(segments[0].lines, self.name)
            intro = "".join(intro_lines)
            self.nonproblem = list(intro_lines)
            problems = self._problems(root)
            self.nonproblem.extend(closing)
            rollup = _ROLLUP_RE.search(intro) if not _evidence(root) else None
            if rollup:
                # One round over many organizations, reported by its totals: the round's record,
                # with no problems made of its sections (whatever shortcomings they mention).
                problems = []
                self.nonproblem = [*intro_lines, *_all_text(root), *closing]
                org, aliases = _clean_title(rollup.group(1)), []
            else:
                org, aliases = _organization(intro, notice.title, self.signature)
            self.intro = intro
            if not org:
                raise NoticeParseError(
                    _(
                        "未能识别被巡视巡察的党组织(已查找“对…进行了巡视/巡察”、"
                        "标题中的党组织名称和落款)"
                    ),
                    name=self.name,
                )
            insp = ParsedInspection(organization=org, aliases=aliases, rollup=bool(rollup))
            _facts(insp, intro, title)
            insp.declared = self._declared(insp)
            if rollup:
                insp.declared["units"] = parse_number(rollup.group(2))
            insp.problems = problems
            notice.inspections.append(insp)
        else:
            shared_intro = "".join(ln.text for ln in segments[0].lines)
            self.intro = shared_intro
            for seg in segments[1:]:
                intro_lines, root, closing = _tree(seg.lines, self.name)
                self.nonproblem = list(intro_lines)
                problems = self._problems(root)
                self.nonproblem.extend(closing)
                insp = ParsedInspection(organization=seg.org or "")
                own_intro = "".join(intro_lines)
                _facts(insp, shared_intro + "。" + own_intro, title)
                for m in _ALIAS_RE.finditer(own_intro):
                    insp.aliases.append(m.group(1))
                insp.declared = self._declared(insp)
                insp.problems = problems
                notice.inspections.append(insp)
        total = sum(i.leaf_problems for i in notice.inspections)
        if total == 0 and not any(i.rollup for i in notice.inspections):
            first_line = content[0].no if content else None
            raise NoticeParseError(
                _(
                    "未能识别出任何问题(应有 一、/(一)/1. 等编号标题、“问题:”行、“针对…问题”、"
                    "“关于“…”问题的整改情况”,或带“问题”列的表格)"
                ),
                name=self.name,
                line=first_line,
            )
        if notice.title is None:
            notice.title = self._composed_title()
        self._warn()
        return notice

    def _declared(self, insp: ParsedInspection) -> dict[str, int | float]:
        """The totals of the current section's non-problem text; remembers the line each was
        stated on (the warnings name it)."""
        declared, found = _declared("\n".join(self.nonproblem))
        self.declared_lines[id(insp)] = {k: self._line_of(v) for k, v in found.items()}
        return declared

    def _line_of(self, snippet: str) -> int | None:
        for ln in self.lines:
            if snippet in ln.text:
                return ln.no
        return None

    def _composed_title(self) -> str | None:
        """A notice printing no title line: "<signature>关于<round><what it publishes>的通报",
        from what its introduction says it publishes ("现将巡察整改情况予以公布"), else none."""
        m = _PUBLISHES_RE.search(self.intro)
        if not m:
            return None
        rounds = {i.round for i in self.notice.inspections if i.round}
        round_ = rounds.pop() if len(rounds) == 1 else ""
        what = m.group(1) or m.group(2)
        if "巡视" not in what and "巡察" not in what:
            what = ("巡察" if "巡察" in self.intro else "巡视") + what
        if round_ and round_ not in what:
            what = round_ + what
        return f"{self.signature or ''}关于{what}的通报"

    def _warn(self) -> None:
        notice = self.notice
        for insp in notice.inspections:
            who = insp.organization if len(notice.inspections) > 1 else ""
            prefix = f"{who}:" if who else ""
            leaves = insp.leaf_problems
            declared = insp.declared.get("problems")
            lines = self.declared_lines.get(id(insp), {})
            if isinstance(declared, int) and declared != leaves and not insp.rollup:
                notice.warnings.append(
                    ParseWarning(
                        prefix
                        + _("通报声明问题 %(declared)s 个,公布了 %(published)s 个")
                        % {"declared": declared, "published": leaves},
                        line=lines.get("problems"),
                    )
                )
            counted = [
                insp.declared.get(k) for k in ("completed", "basically_completed", "not_completed")
            ]
            numbers = [c for c in counted if isinstance(c, int)]
            if isinstance(declared, int) and len(numbers) == 3 and sum(numbers) != declared:
                notice.warnings.append(
                    ParseWarning(
                        prefix
                        + _("各完成情况合计 %(sum)s 个,与声明的问题数 %(declared)s 个不符")
                        % {"sum": sum(numbers), "declared": declared},
                        line=lines.get("completed") or lines.get("problems"),
                    )
                )
            for leaf in insp.iter_leaves():
                if not leaf.title:
                    notice.warnings.append(
                        ParseWarning(
                            prefix + _("第 %(line)s 行:问题没有标题") % {"line": leaf.line},
                            line=leaf.line,
                            message=prefix + _("问题没有标题"),
                        )
                    )


def parse_notice(text: str, *, name: str = "<text>") -> ParsedNotice:
    """Read a notice's text into a ParsedNotice.

    Raises NoticeParseError (naming the file) when no inspected organization or no problems
    can be recognised.
    """
    if not text or not text.strip():
        raise NoticeParseError(_("通报内容为空"), name=name)
    return _NoticeReader(text, name).read()
