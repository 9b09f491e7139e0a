"""The vocabulary: the regexes for heading labels, page chrome, organizations, dates, rounds,
status words, 针对/关于 wrappers and the words that mark shortcomings."""

from __future__ import annotations

import re

from ..numerals import CN_NUMERAL_CHARS
from ..text import STATUS_WORDS_RE

# --------------------------------------------------------------------------------------------
# Patterns
# --------------------------------------------------------------------------------------------

CN = "一二三四五六七八九十百零〇两"
NUMCH = CN_NUMERAL_CHARS
NUM = rf"(\d+(?:\.\d+)?|[{NUMCH}]+)"

# Heading label styles, tried in order. (style, regex); the regex yields label parts and text.
_H_WENTI_BRACKET = re.compile(rf"^【\s*问题\s*([{CN}\d]{{0,4}})\s*】\s*[:]?\s*(.*)$")
# A block opened by a field naming the problem: "存在问题:…" (then 整改措施:…, 完成情况:…).
_H_WENTI_FIELD = re.compile(r"^(?:存在|反馈|发现|巡察反馈|巡视反馈)的?问题\s*[:]\s*(\S.*)$")
_H_WENTI = re.compile(rf"^问题\s*(?:([{CN}\d]{{1,4}})\s*[:、.](?!\d)|()[:])\s*(.*)$")
_H_DIGE = re.compile(rf"^第\s*([{CN}\d]{{1,4}})\s*(?:个|项|条|类)?问题\s*[:,]?\s*(?:是)?(.*)$")
_H_PCN = re.compile(rf"^\(\s*([{CN}]{{1,4}})\s*\)\s*(.*)$")
_H_PNUM = re.compile(r"^\(\s*(\d{1,3})\s*\)\s*(.*)$")
_H_CIRC = re.compile(r"^([\u2460-\u2473])\s*(.*)$")
_H_CN = re.compile(rf"^([{CN}]{{1,4}})\s*([、.])(?!\d)\s*(.*)$")
_H_NUM = re.compile(r"^(\d{1,3})\s*([、.)])(?!\d)\s*(.*)$")

_FIXED_RANK = {"cn": 10, "pcn": 20, "num": 30, "pnum": 40, "circ": 50}

# Lines that are page furniture, never content.
_CHROME_PREFIXES = (
    "来源", "发布时间", "发布日期", "发布机构", "发文机关", "作者", "责任编辑", "编辑", "审核",
    "阅读量", "阅读次数", "浏览次数", "点击数", "访问量", "字号", "字体", "打印", "关闭", "分享到",
    "分享", "【打印", "【关闭", "原文链接", "[免责声明", "免责声明", "【字体", "扫一扫",
    "扫描二维码", "相关链接", "上一篇", "下一篇", "网站地图", "首页", "当前位置", "您当前的位置",
)  # fmt: skip
_CHROME_WORDS = ("版权所有", "ICP备", "公网安备", "技术支持", "主办单位")
_SOURCE_RE = re.compile(r"来源\s*[:]\s*([^\s:]{2,40}?)(?=\s|发布|时间|日期|阅读|$)")
_PUBLISHED_RE = re.compile(
    r"(?:发布时间|发布日期|发布于|发文日期|成文日期|时间|日期)\s*[:]?\s*(\d{4})\s*[-./年]\s*(\d{1,2})"
    r"\s*[-./月]\s*(\d{1,2})"
)
_CONTACT_RE = re.compile(
    r"^(?:欢迎|热忱欢迎|如有意见|如对.{0,20}有.{0,6}意见|联系(?:电话|方式|人|地址)\s*[:]|电话\s*[:]|"
    r"邮政信箱|电子邮箱|电子信箱|邮箱\s*[:]|邮寄地址|通信地址|通讯地址|举报电话|意见建议请)"
)
_CLOSING_LINE_RE = re.compile(r"^(?:下一步|下步|今后|接下来|下阶段|下一阶段)")
_CLOSING_HEADING_RE = re.compile(
    r"下一步|下步工作|下一阶段|今后(?:工作|打算|努力|一个时期)|努力方向|工作打算|工作计划|后续工作"
)
_ORG_SUFFIX = r"(?:党工委|工作委员会|委员会|党委|党组|党总支|党支部|机关党委)"
# A local party committee named by its place: 中共临江省委, 中共青溪县委.
_PLACE_COMMITTEE = r"(?:省|自治区|市|自治州|州|县|区|旗|盟)委"
_SIG_COMMITTEE_RE = re.compile(rf"^(?:中共|中国共产党)[^\s,。;:、“”()]{{2,20}}?{_PLACE_COMMITTEE}$")
_ORG_LINE_RE = re.compile(rf"^([^\s,。;:、“”()]{{2,40}}?{_ORG_SUFFIX})$")
_ORG_HEADING_RE = re.compile(rf"^([^\s,。;:、“”()]{{2,40}}?{_ORG_SUFFIX})\s*(?:[:]\s*(.*))?$")
# A section about one organization's rectification: "一、市教育局党组巡察整改情况",
# "(二)中共临川市委政法委员会巡察整改进展情况", "(三)白石乡整改情况" (a place named alone).
_SECTION_TAIL = r"(?:巡视|巡察)?(?:反馈问题|反馈意见)?整改(?:工作)?(?:落实)?(?:进展)?(?:情况)"
_ORG_SECTION_RE = re.compile(
    rf"^([^\s,。;:、“”()]{{2,40}}?{_ORG_SUFFIX}){_SECTION_TAIL}$"
    rf"|^([^\s,。;:、“”()]{{1,20}}?(?:省|自治区|自治州|市|县|区|旗|镇|乡|街道|局|公司)){_SECTION_TAIL}$"
)
_TITLE_ORG_RE = re.compile(
    rf"^([^\s,。;:、“”]{{2,40}}?{_ORG_SUFFIX}|(?:中共|中国共产党)[^\s,。;:、“”]{{2,20}}?{_PLACE_COMMITTEE})关于"
)

_YEAR = r"(\d{4}|[〇零○一二三四五六七八九]{4})\s*年"
_MON = r"(\d{1,2}|[一二三四五六七八九十]{1,3})\s*月"
_DAY = r"(\d{1,2}|[一二三四五六七八九十]{1,3})\s*[日号]"
_DATE_ONLY_RE = re.compile(rf"^{_YEAR}\s*{_MON}\s*{_DAY}$")
_ISO_DATE_ONLY_RE = re.compile(r"^(\d{4})[-./](\d{1,2})[-./](\d{1,2})$")
_RANGE_RE = re.compile(
    rf"(?:{_YEAR})?\s*{_MON}\s*(?:{_DAY})?\s*(?:至|到|—|–|-|~|－|一)\s*"
    rf"(?:(?:{_YEAR})?\s*{_MON}\s*(?:{_DAY})?|{_DAY})"
)
# The period written as an entry date and an exit date: "于2023年3月20日进驻…,5月19日结束进驻".
_ENTRY_EXIT_RE = re.compile(
    rf"(?:{_YEAR})?\s*{_MON}\s*{_DAY}\s*(?:起)?[^。]{{0,40}}?进驻[^。]{{0,60}}?"
    rf"(?:{_YEAR})?\s*{_MON}\s*{_DAY}\s*(?:结束进驻|完成进驻|撤离|结束)"
)
_SINGLE_DATE_RE = re.compile(rf"(?:{_YEAR})?\s*{_MON}\s*{_DAY}")
_YEAR_ONLY_RE = re.compile(_YEAR)

_LEVEL = r"(?:中央|省委|自治区党委|市委|州委|盟委|地委|县委|区委|旗委)"
_ROUND_RES = (
    re.compile(rf"([{NUMCH}\d]{{1,3}}届)({_LEVEL})(第[{NUMCH}\d]{{1,4}}轮)"),
    re.compile(rf"([{NUMCH}\d]{{1,3}}届)({_LEVEL})[^。]{{0,40}}?(第[{NUMCH}\d]{{1,4}}轮)"),
    re.compile(rf"()({_LEVEL})(第[{NUMCH}\d]{{1,4}}轮)"),
    re.compile(rf"()()(第[{NUMCH}\d]{{1,4}}轮)(?:常规|专项|机动|提级)?(?:巡视|巡察)"),
)
_GROUP_RE = re.compile(
    rf"((?:{_LEVEL}|街道党工委|街道党委|镇党委|乡党委|党工委)?第[{NUMCH}\d]{{1,3}}(?:巡视|巡察)组)"
)
_LEVEL_RE = re.compile(rf"({_LEVEL})")
_KIND_RE = re.compile(r"(回头看|常规|专项|机动|提级|交叉)(?:巡视|巡察)?")

_ORG_OBJECT_RE = re.compile(
    r"对([^,。;对]{2,80}?)(?:开展|进行|实施)了?(?:为期[^,。]{1,8}的?)?(?:第[^,。]{1,4}轮)?"
    r"(?:常规|专项|机动|提级|交叉)?(?:巡视|巡察)"
)
_ORG_FEEDBACK_RE = re.compile(r"向([^,。;向]{2,60}?)(?:党组织)?(?:集中)?反馈")
_ALIAS_RE = re.compile(r"\(\s*(?:以下)?简称\s*[“\"']?([^”\"')]{1,20})[”\"']?\s*\)")
_ALIAS_INLINE_RE = re.compile(r"(?:以下)?简称\s*[“\"]([^”\"]{1,20})[”\"]")

# Heading text features.
_STATUS_BRACKET_RE = re.compile(
    rf"[(\[【]\s*((?:{STATUS_WORDS_RE}|立行立改|限期整改)(?:\s*[,、;/]\s*(?:{STATUS_WORDS_RE}|"
    r"立行立改|限期整改))*)\s*[)\]】]"
)
_STATUS_BRACKET_END_RE = re.compile(_STATUS_BRACKET_RE.pattern + r"\s*[。.]?\s*$")
_STATUS_FIELD_RE = re.compile(
    r"(?:【\s*)?(?:整改|完成|办理|落实)?(?:情况|状态|进展|进度|结果)\s*(?:】\s*[:]?|[:])\s*"
    rf"({STATUS_WORDS_RE})"
)
_TYPE_FIELD_RE = re.compile(
    r"(?:【\s*)?(?:整改)?(?:类型|时限|方式|性质|期限)\s*(?:】\s*[:]?|[:])\s*(立行立改|限期整改|长期坚持)"
)
# A numbered heading that says it is a problem before its words: "1.问题:…", "(一)【问题】…".
_SAYS_PROBLEM_RE = re.compile(r"(?:【\s*(?:存在|反馈)?问题\s*】|(?:存在|反馈)?问题\s*[:])\s*(?=\S)")
_STATUS_ONLY_RE = re.compile(rf"^\s*({STATUS_WORDS_RE})\s*[。.]?\s*$")
# A problem's text closing on its status: "目前,该问题已整改完成。" / "该项整改正在推进中。"
_TAIL_STATUS_RE = re.compile(
    r"^(?:目前|截至目前|当前|现|至此)?\s*,?\s*(?:该问题|此问题|本问题|该项问题|该项整改|此项整改|该项|此项|"
    rf"上述问题)?\s*(?:已经|已全部|已)??\s*({STATUS_WORDS_RE})(?:整改)?(?:中)?$"
)
# A clause inside a problem's text stating its status, with a time or a subject so that a
# measure ("已完成12个党支部换届") is not taken for one: "目前,该项整改已基本完成,下一步将…",
# "…,目前已整改到位,并建立…", "截至10月底,该问题正在整改中".
_MID_LEAD = r"目前|截至目前|截止目前|当前|现(?=已)|至此|截至[^,。;]{0,12}?(?:底|末|日|止)"
_MID_SUBJECT = (
    r"该问题|此问题|本问题|该项问题|上述问题|该项整改(?:任务)?|此项整改(?:任务)?|该整改任务|该项任务|"
    r"此项任务|该项工作|此项工作|该项"
)
# Found by a scan that starts on a time or subject word (fast) and checked to begin a clause.
_MID_STATUS_SCAN_RE = re.compile(
    rf"(?:(?:{_MID_LEAD})\s*,?\s*(?:{_MID_SUBJECT})?|(?:{_MID_SUBJECT}))\s*(?:整改工作|整改)?\s*"
    rf"(?:已经|已全部|已)?\s*({STATUS_WORDS_RE})(?:整改)?(?:工作)?(?:中)?(?=\s*(?:[。;!?,]|$))"
)
_CLAUSE_MARKS = frozenset("。;!?, ")
# Words one of which such a clause holds (checked with `in` before any regex runs).
_MID_HINTS = (
    "该",
    "此项",
    "此问题",
    "本问题",
    "上述问题",
    "目前",
    "截至",
    "截止",
    "当前",
    "现已",
    "至此",
)
_WRAP_ZHENDUI_Q = re.compile(r"^针对[^“”]{0,40}?“(.+)”\s*的?问题$")
_WRAP_ZHENDUI = re.compile(r"^针对(?:[^“”]{0,20}?(?:指出|反馈|提出|发现)的)?(.{2,}?)的?问题$")
# "对于“…”的问题" is "针对“…”问题" in other words; "“…”问题" names one problem by its quote.
_WRAP_DUIYU_Q = re.compile(r"^对于[^“”]{0,30}?“(.+)”\s*的?问题$")
_WRAP_DUIYU = re.compile(r"^对于(.{2,}?)的?问题$")
_WRAP_QUOTED = re.compile(r"^“([^“”]+)”\s*的?问题$")
_WRAP_GUANYU_Q = re.compile(r"^关于[^“”]{0,30}?“(.+)”\s*的?问题\s*的?(?:整改|落实|进展)*(?:情况)?$")
_WRAP_GUANYU = re.compile(r"^关于(.{2,}?)的?问题$")
_WRAP_SUFFIX = re.compile(
    r"^(?:关于)?(.{2,}?)(?:问题)?的?(?:整改落实情况|整改情况|整改进展情况|落实整改情况|整改落实进展情况|"
    r"整改落实进展|整改完成情况)$"
)
_WRAPPERISH = re.compile(r"巡视|巡察|反馈意见|反馈问题|反馈的问题|整改工作|总体|集中整改|具体问题")
# What is left of "二、具体问题整改情况" / "主要问题的整改落实情况" once 问题 and the suffix are off:
# words about problems in general, not one problem's own words.
_GENERIC_PROBLEMS = re.compile(
    rf"(?:[{CN}\d]+\s*(?:个|项|条|类))?(?:具体|主要|突出|有关|相关|各项|各类|反馈|指出|交办|移交|存在|"
    r"发现|上述|以下|问题|的)*"
)
_CATEGORY_RE = re.compile(
    r"方面(?:的?(?:主要|突出|具体)?问题)?(?:的?(?:整改|落实)+(?:进展)?情况)?$"
)
_NEG_RE = re.compile(
    r"不(?!断|仅|忘|折不扣|懈)|未|缺|差距|短板|薄弱|弱化|淡化|虚化|偏差|偏离|隐患|滞后|迟缓|松弛|松懈|"
    r"松散|乏力|漏洞|流失|空置|空缺|较多|较高|较低|较大|单一|有待|亟需|亟待|欠缺|违规|违反|违纪|"
    r"违法|存在.{0,8}问题|问题(?:突出|较多|依然|仍然|时有)|风险|失职|失责|失范|失察|失控|走样|"
    r"打折扣|形式主义|官僚主义|低效|无序|混乱|随意|过多|过高|过低|过大|严重|错位|缺位|困难"
)
_MEASURE_NUMERALS = frozenset("一二三四五六七八九十")
_MEASURE_BEFORE = frozenset("。;,:!? ")
_BODY_MARKERS = (
    "整改措施及成效|整改落实情况|整改进展情况|整改情况|整改措施|整改成效|整改进展|整改举措|落实情况|"
    "完成情况|整改"
)
_BODY_MARKER_RE = re.compile(rf"^(?:【\s*)?(?:{_BODY_MARKERS})(?:\s*】\s*[:]?|\s*[:])\s*")
_TABLE_SPLIT_PIPE = re.compile(r"\s*[|│┃]\s*")
# A bracketed field name inside a line (not at its start): where one field of a block ends.
_INLINE_FIELD_RE = re.compile(
    r"(?<=\S)\s*(?=【\s*(?:问题|整改|完成|责任|牵头|办理|落实|存在问题|反馈问题)[^】]{0,8}】)"
    rf"(?!【\s*(?:{STATUS_WORDS_RE})\s*】)"  # "…的问题【整改中】" is a status, not a field
)

# A section about how the organization led and organized the rectification, its results in
# general, how it takes the inspectors' suggestions up or keeps the gains: never problems or
# categories, whatever their numbering (checked together with the shortcoming words, _NEG_RE).
_LEAD_RE = re.compile(
    r"组织领导|政治站位|政治任务|政治责任|政治自觉|主体责任|整改责任|扛起|扛牢|扛实|压实|压紧|高位推动|"
    r"部署推进|统筹推进|以上率下|督促检查|督查督办|跟踪问效|高度重视|迅速部署|细化方案|"
    r"(?:整改)?工作(?:的)?(?:组织)?(?:开展|推进|落实)?(?:总体)?情况$|总体情况|开展情况$|"
    r"举一反三|长效机制|常态长效|常态化长效化|巩固(?:深化)?(?:整改)?成果|整改成效|成效(?:初步)?显现|"
    r"意见建议|巡察建议|巡视建议|建议(?:的)?(?:采纳|落实)"
)
# Inspections of many organizations at once reported as one round: "对县发展和改革局、县教育局
# 等12个党组织开展了常规巡察".
_ROLLUP_RE = re.compile(
    rf"对([^,。;对]{{2,80}}?等\s*{NUM}\s*个(?:单位|部门|乡镇|村|社区)?(?:党组织|单位|部门))"
    r"(?:开展|进行|实施)了?"
)
# A page header in brackets: "(发布日期:2023年12月20日)".
_BRACKETED_LINE_RE = re.compile(r"^[(\[【]\s*(.*?)\s*[)\]】]$")
# A source tag that names an issuing body ("市委巡察办", "安平县纪委监委"), not a medium
# ("临江日报", "…网站") or a byline tag ("莞巡宣").
_ISSUER_SOURCE_RE = re.compile(
    r"(?:办|办公室|委|委员会|党委|党组|党工委|局|厅|部|政府|纪委监委|监委|巡察组|巡视组)$"
)
_MEDIA_SOURCE_RE = re.compile(
    r"日报|晚报|报社|网站|新闻|融媒|电视台|广播|在线|微信|公众号|客户端|(?:报|网|台|发布)$"
)
# A signature naming an office: "中共青溪县委巡察工作领导小组办公室", "市委巡察办".
_SIG_OFFICE_RE = re.compile(
    r"^(?:中共|中国共产党)?[^\s,。;:、“”()]{2,30}?(?:办公室|巡察办|巡视办)$"
)
# What an untitled notice says it publishes: "现将巡察整改情况予以公布", "向社会公开巡视整改进展情况".
_PUBLISHES_RE = re.compile(
    r"(?:现将|现就)([^,。;]{0,16}?整改[^,。;]{0,12}?情况)(?:予以|向社会)?(?:公布|公开|通报|公示)"
    r"|公开((?:巡视|巡察)[^,。;]{0,16}?情况)"
)
