"""Pass 3 and 4: the heading tree of a section, and what each node says it is (closing text, a
category, a problem, a subtree holding problems)."""

from __future__ import annotations

from .headings import _Line, _Node
from .patterns import (
    _CATEGORY_RE,
    _CLOSING_HEADING_RE,
    _CLOSING_LINE_RE,
    _CONTACT_RE,
    _FIXED_RANK,
    _LEAD_RE,
    _NEG_RE,
    _SAYS_PROBLEM_RE,
)
from .tables import _maybe_flat_header, _read_flat_table, _read_table
from .titles import _is_explicit_title


# -- pass 3: heading tree ---------------------------------------------------------------
def _tree(lines: list[_Line], name: str) -> tuple[list[str], _Node, list[str]]:
    """Intro lines, the root of the heading tree, and closing lines."""
    root = _Node("root", -1, None, "", 0)
    stack = [root]
    intro: list[str] = []
    closing: list[str] = []
    dyn_rank: dict[str, int] = {}
    in_closing = False
    closing_rank = 10**6
    i = 0
    n = len(lines)
    while i < n:
        ln = lines[i]
        t = ln.text
        i += 1
        if not t:
            continue
        if not in_closing:
            if "|" in ln.raw or "\t" in ln.raw:
                table = _read_table(lines, i - 1, name)
            elif _maybe_flat_header(t):
                table = _read_flat_table(lines, i - 1)
            else:
                table = None
            if table is not None:
                tbl, i = table
                stack[-1].tables.append(tbl)
                continue
        h = ln.heading
        if h is not None:
            style, label, rest = h
            if not rest.strip() and i < n:
                # A label alone on its line: the title is on the next line.
                while i < n and not lines[i].text:
                    i += 1
                if i < n:
                    rest = lines[i].text
                    i += 1
            if style in _FIXED_RANK:
                rank = _FIXED_RANK[style]
            else:
                if style not in dyn_rank:
                    dyn_rank[style] = stack[-1].rank + 5 if len(stack) > 1 else 5
                rank = dyn_rank[style]
            if in_closing:
                # Closing text ("下一步,…", contact lines) ends at a heading at the level of
                # the one it followed, or higher; its own sub-points stay closing text.
                if rank <= closing_rank:
                    in_closing = False
                else:
                    closing.append(t)
                    continue
            rest = rest.strip()
            said = _SAYS_PROBLEM_RE.match(rest) if style in _FIXED_RANK else None
            if said:
                rest = rest[said.end() :]  # "1.问题:预算编制不科学。" is problem 1.
            node = _Node(style, rank, label, rest, ln.no)
            if said:
                node.memo["explicit"] = True
            while len(stack) > 1 and stack[-1].rank >= rank:
                stack.pop()
            stack[-1].children.append(node)
            stack.append(node)
            continue
        if in_closing or _CONTACT_RE.match(t) or _CLOSING_LINE_RE.match(t):
            if not in_closing:
                in_closing = True
                closing_rank = stack[-1].rank if len(stack) > 1 else 10**6
            closing.append(t)
            continue
        if len(stack) == 1:
            intro.append(t)
        else:
            stack[-1].body.append(t)
    return intro, root, closing


# -- pass 4: which nodes are problems ---------------------------------------------------
def _is_closing(node: _Node) -> bool:
    v = node.memo.get("closing")
    if v is None:
        v = node.memo["closing"] = _closing_test(node)
    return v


def _closing_test(node: _Node) -> bool:
    s = node.sentence
    m = _CLOSING_HEADING_RE.search(s[:30])
    if not m or node.style in ("wenti", "dige") or _is_explicit_title(s):
        return False
    # A heading that opens with the word ("下一步工作打算", "下一步,我们将…不松劲") is
    # closing; further in, a shortcoming after it ("社区换届后续工作落实不到位") is not.
    if m.start() == 0 or s[: m.start()] in ("关于", "对于"):
        return True
    return not _NEG_RE.search(s[m.end() :])


def _is_category(node: _Node) -> bool:
    v = node.memo.get("category")
    if v is None:
        v = node.memo["category"] = _category_test(node)
    return v


def _category_test(node: _Node) -> bool:
    s = node.sentence
    if "方面" not in s:
        return False
    if not (_CATEGORY_RE.search(s) or (s.startswith("关于") and "方面" in s)):
        return False
    return any(not _is_closing(c) for c in node.children) or any(t.items() for t in node.tables)


def _is_explicit(node: _Node) -> bool:
    v = node.memo.get("explicit")
    if v is None:
        v = node.memo["explicit"] = _explicit_test(node)
    return v


def _explicit_test(node: _Node) -> bool:
    if node.style in ("wenti", "dige"):
        return True
    if node.head[2]:
        return True
    return _is_explicit_title(node.sentence)


def _evidence(node: _Node) -> bool:
    """Does this node's subtree say it holds problems?"""
    v = node.memo.get("evidence")
    if v is None:
        v = node.memo["evidence"] = _evidence_test(node)
    return v


def _evidence_test(node: _Node) -> bool:
    if node.tables:
        return True
    for c in node.children:
        if _is_closing(c) or _is_lead(c):
            continue
        if _is_explicit(c) or _is_category(c) or _evidence(c):
            return True
    return False


def _is_lead(node: _Node) -> bool:
    """A section about how the organization led the work (提高政治站位, 加强组织领导, 整改工作
    开展情况), its results in general, the inspectors' suggestions or keeping the gains: never
    a problem or a category, nor is anything under it, at whatever level and numbering."""
    v = node.memo.get("lead")
    if v is None:
        v = node.memo["lead"] = _lead_test(node)
    return v


def _lead_test(node: _Node) -> bool:
    s = node.sentence
    if node.style in ("wenti", "dige") or node.head[2] or not _LEAD_RE.search(s):
        return False
    if _NEG_RE.search(s) or _is_explicit_title(s) or _is_category(node):
        return False
    # A section whose own sub-headings say they are problems is a wrapper, not a lead section.
    return not any(_is_explicit(c) or _is_category(c) for c in node.children)
