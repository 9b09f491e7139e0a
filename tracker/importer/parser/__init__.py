"""Read a published rectification-progress notice (巡视/巡察整改进展情况的通报) into plain data.

A pure function from text to dataclasses: no ORM, no I/O (except `read_notice`, which reads at
most MAX_NOTICE_BYTES + 1 bytes of one file). The loader turns the result into rows.

The package reads as the pipeline, one module per step:

- ``decoding``: bytes to text (UTF-8, GB18030, UTF-16, Word, PDF), and NoticeParseError;
- ``patterns``: the vocabulary (heading labels, chrome, organizations, dates, status words);
- ``frame`` (passes 1–2): fold widths (NFKC, so （一） = (一) and ： = :), split lines, drop page
  chrome (来源, 阅读量, 打印, 原文链接, 免责声明 …), find the title line and the signature (an
  organization line and a date line near the end; everything after that date is page footer).
  A title set on two lines (the organization, then "关于…的通报") is one title, and a line
  holding several bracketed fields ("【问题】…【整改情况】…【完成情况】已完成") is split into one
  line per field. If several lines name party organizations as section headings ("X党委:…"),
  the notice is split into one section per inspected organization;
- ``headings``, ``tables``, ``tree`` (pass 3): per section, a heading tree from the numbering
  styles 一、 > (一) > 1. > (1) > ① (plus 问题: / 问题一: / 问题1、 / 【问题】 / 第一个问题
  headings, nested where they first appear), with tables as blocks of rows: pipe- or
  tab-separated, or flattened to text (cells split by spaces, or one cell per line), with
  category rows ("(一)…方面") grouping them;
- ``tree``, ``reader`` (pass 4): which parts of the tree are problems. Headings that say so
  ("针对…“…”问题", "关于“…”问题的整改情况", "…的整改落实情况", a printed status, 问题: labels)
  and category headings ("关于…方面") are evidence; a top-level section holding evidence is a
  wrapper whose children are all problems (categories or problems); sections without evidence
  are preamble, sections about 下一步 are closing. Under a problem, only headings that say they
  are problems become sub-problems; other sub-headings are measures. Without any evidence at
  all, sections whose children read as shortcomings (不到位, 不足, 缺乏 …) are taken as the
  problem list. A problem's status is the word printed in its heading, in a status field
  (整改进度:…, 【完成情况】…), or, failing those, in a bracket or short sentence closing its
  text ("目前,该问题已整改完成。");
- ``facts`` (pass 5): the facts of the introduction and the non-problem text: organization,
  round, group, period, feedback and publication dates, declared totals and outcomes.
"""

from __future__ import annotations

from ..text import core_org_name, fold_status, normalize_title, org_names_match
from .data import ParsedInspection, ParsedNotice, ParsedProblem, ParseWarning
from .decoding import MAX_NOTICE_BYTES, NoticeParseError, decode_notice, read_notice
from .facts import _DECLARED
from .reader import parse_notice

__all__ = [
    "MAX_NOTICE_BYTES",
    "NoticeParseError",
    "ParsedInspection",
    "ParsedNotice",
    "ParsedProblem",
    "ParseWarning",
    "_DECLARED",
    "core_org_name",
    "decode_notice",
    "fold_status",
    "normalize_title",
    "org_names_match",
    "parse_notice",
    "read_notice",
]
