"""Extractive answers: the sentence(s) that answer, quoted verbatim with [n] markers, or a plain
statement that the documents do not cover the question with the nearest clauses listed instead.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rag.calibration import Calibration
from rag.documents import Document
from rag.evidence import (
    CorpusYears,
    Quantity,
    asked_quantities,
    missing_quantities,
    states,
    states_any_number,
)
from rag.forms import Form, Terms, common_and_different, yes_or_no
from rag.normalize import normalize
from rag.passages import sentence_spans
from rag.questions import Intent, QuestionAnalysis
from rag.registry import Registry
from rag.results import Answer, Citation, ClauseHit, ComparisonRow
from rag.units import UnitNote, find_unit_notes

FOCUS_SHARE = 0.3
"""A sentence holding a figure answers a "how much / how long" question only if it also holds this
share of the question's distinctive words; otherwise the figure is about something else."""

RELATED_SHOWN = 3
MAX_RELATED = 3
RELATED_SCORE_RATIO = 0.85
"""After the answering sentence, up to MAX_RELATED further clauses whose fused score is at least
this share of the best one are quoted as related provisions: more when retrieval cannot tell the
candidates apart, fewer when one clause stands out."""
LISTED_AT_MOST = 6
ENUMERATION_SCORE_RATIO = 0.6
"""A list answer (哪几项, 几处) names up to LISTED_AT_MOST clauses: the best, and those holding what
the question asks about whose score is at least this share of the best."""
UNCERTAIN_OVERLAP = 0.2
CANDIDATES_SHOWN = 4
"""When under UNCERTAIN_OVERLAP of the question's words occur in its top clauses (a colloquial
question, 卖地收入 for 土地出让收入), retrieval ranks on meaning alone and its first clause was
wrong about half the time on our question sets (10 of 19, against 1 of 87 above it). Such an
answer says so and quotes the CANDIDATES_SHOWN closest clauses as candidates, not one as the answer."""
COMPARISON_QUOTES = 8
MAX_PER_DOCUMENT = 3
COMPARISON_SCORE_RATIO = 0.75
"""A comparison quotes up to COMPARISON_QUOTES clauses in all, at most MAX_PER_DOCUMENT per document
(three each for two documents, two each for three or four), the further ones of a document only if
their score is at least COMPARISON_SCORE_RATIO of that document's best."""
_QUANTITY_WORDS = {
    Quantity.MONEY: ("具体金额", "specific amount of money"),
    Quantity.AGE: ("具体年龄", "specific age"),
    Quantity.DURATION: ("具体期限", "specific time limit"),
    Quantity.SHARE: ("具体比例", "specific share"),
    Quantity.COUNT: ("具体数量", "specific number"),
    Quantity.DATE: ("具体日期", "specific date"),
    Quantity.ANY: ("具体数字", "specific figure"),
}


@dataclass(slots=True)
class _Sources:
    """Citations in order of first use; the same clause is cited once with all its quotes."""

    items: list[Citation]

    def cite(self, hit: ClauseHit, quotes: Sequence[str]) -> int:
        for i, existing in enumerate(self.items):
            if existing.clause.id == hit.clause.id:
                merged = tuple(dict.fromkeys(existing.quotes + tuple(quotes)))
                self.items[i] = Citation(existing.n, existing.clause, existing.document, merged)
                return existing.n
        n = len(self.items) + 1
        self.items.append(Citation(n, hit.clause, hit.document, tuple(dict.fromkeys(quotes))))
        return n


def _sentences(hit: ClauseHit) -> list[str]:
    """The hit's matched sentences, best first, then the rest of the clause in order."""
    sentences = sentence_spans(hit.clause.text)
    matched = [s for s in hit.matched if s in sentences]
    spans = matched + [s for s in sentences if s not in matched]
    return [hit.clause.text[a:b] for a, b in spans]


def _evidence_sentences(hit: ClauseHit, focus: frozenset[str], first: bool = False) -> list[str]:
    """The sentences of the clause that may carry a figure the question asks for. Given the
    question's distinctive words: every sentence holding enough of them (a long clause states its
    targets in sentences that did not match best), and, in the clause retrieval put `first`, those
    it matched to the question by meaning that hold at least one (a colloquial question rarely
    repeats more). Without distinctive words, every sentence."""
    if not focus:
        return _sentences(hit)
    matched = {hit.clause.text[a:b] for a, b in hit.matched}
    return [
        s for s in _sentences(hit)
        if _focus_share(s, focus) >= FOCUS_SHARE or (first and s in matched and _focus_share(s, focus) > 0)
    ]


def _focus_share(sentence: str, focus: frozenset[str]) -> float:
    text = normalize(sentence).lower()
    return sum(term in text for term in focus) / len(focus)


def _without_given_numbers(sentence: str, question: str) -> str:
    """The sentence less the figures the question itself gives (到2025年…要达到多少？ is not
    answered by 2025)."""
    for number in sorted(set(re.findall(r"\d+(?:\.\d+)?", question)), key=len, reverse=True):
        sentence = re.sub(rf"(?<![\d.]){re.escape(number)}(?![\d.])", "", sentence)
    return sentence


def _is_heading_only(sentence: str, hit: ClauseHit) -> bool:
    return len(sentence) <= 24 and any(sentence.rstrip("。") in h for h in hit.clause.path)


def _is_unit_note(sentence: str) -> bool:
    return any(note.span == (0, len(sentence)) for note in find_unit_notes(sentence))


def _best_sentence(hit: ClauseHit, want: Quantity | None = None, focus: frozenset[str] = frozenset()) -> str:
    """The sentence of the clause that best answers: the best matched one that says something
    (not the bare heading, not the responsibility note), holding the asked quantity if any, in a
    sentence with the question's distinctive words if there is one."""
    sentences = _sentences(hit)
    candidates = [s for s in sentences if not _is_heading_only(s, hit) and not _is_unit_note(s)] or sentences
    if want is not None:
        evidence = set(_evidence_sentences(hit, focus, first=True))
        for sentence in candidates:
            if sentence in evidence and _states(sentence, want):
                return sentence
        for sentence in candidates[:6]:
            if _states(sentence, want):
                return sentence
    return candidates[0]


def _states(sentence: str, quantity: Quantity) -> bool:
    return states_any_number(sentence) if quantity is Quantity.ANY else states(sentence, quantity)


def _unit_note(hit: ClauseHit, after: str | None = None) -> UnitNote | None:
    """The responsibility note of the clause: the first one after the sentence `after` (a clause
    may name units for each of its measures), else its last."""
    notes = find_unit_notes(hit.clause.text)
    if not notes:
        return None
    end = hit.clause.text.find(after) + len(after) if after and after in hit.clause.text else None
    return next((n for n in notes if end is not None and n.span[0] >= end), notes[-1])


def _line(names: Registry, hit: ClauseHit, quote: str | Sequence[str], n: int, english: bool) -> str:
    """Where the quote stands and the verbatim quote(s) with their marker; separate quotes from
    one clause are joined by an ellipsis outside the quotation marks."""
    name = names.short_name(hit.document, english)
    quotes = [quote] if isinstance(quote, str) else list(quote)
    return f"{name} {hit.clause.label}：" + "……".join(f"“{q}”" for q in quotes) + f"[{n}]"


def _draft_note(names: Registry, citations: Sequence[Citation], english: bool) -> list[str]:
    drafts = {c.document.id: c.document for c in citations if c.document.is_draft}
    if not drafts:
        return []
    titles = "、".join(f"《{d.title}》" for d in drafts.values())
    if english:
        plural = len(drafts) > 1
        return [f"Note: {titles} {'are drafts' if plural else 'is a draft'} for comment (征求意见稿), not in force."]
    return [f"注意：{titles}为征求意见稿，尚未正式施行，仅供参考。"]


def _uncovered_note(names: Registry, analysis: QuestionAnalysis) -> list[str]:
    """A place the question names that no document of the library covers, beside covered ones."""
    if not analysis.other_regions or not analysis.regions or analysis.intent is not Intent.COMPARE:
        return []
    english = analysis.is_english
    places = [names.place_name(r, english) for r in analysis.other_regions]
    if english:
        return [f"The library holds no document of {', '.join(places)}; the answer covers the others only."]
    return [f"文件库中没有{'、'.join(places)}的文件，以下只涉及其他地区。"]


def _document_facts(analysis: QuestionAnalysis, document: Document) -> list[tuple[str | None, str, str]]:
    """(value or None, Chinese name, English name) of each fact about the document the question asks."""
    asked = [
        (analysis.asks_date, document.date, "落款日期", "date"),
        (analysis.asks_number, document.doc_number, "文号", "document number"),
        (analysis.asks_issuer, document.issuer, "发文机关", "issuer"),
    ]
    return [(value, zh, en) for wanted, value, zh, en in asked if wanted]


def _abstain_reason(
    calibration: Calibration,
    analysis: QuestionAnalysis,
    hits: Sequence[ClauseHit],
    documents: Sequence[Document],
    corpus_years: CorpusYears,
    overlap: float,
    focus: frozenset[str],
    too_general: bool = False,
) -> str | None:
    english = analysis.is_english
    if analysis.names_uncovered_region_only:
        regions = "、".join(analysis.other_regions)
        return f"they do not cover {regions}" if english else f"已收录的文件不涉及{regions}"
    if analysis.regions and not hits and not documents:
        return "the documents it names are excluded by the current filters" if english else "问题所指的文件已被当前筛选条件排除"
    unknown_years = corpus_years.unknown_in(analysis.text)
    if unknown_years:
        years = "、".join(unknown_years)
        return f"no document mentions the year {years}" if english else f"文件中没有涉及{years}年的内容"
    if hits and analysis.asks_about_document:
        document = hits[0].document
        for fact, zh, en in _document_facts(analysis, document):
            if fact is None:
                return f"《{document.title}》 does not state its {en}" if english else f"《{document.title}》文本中没有载明{zh}"
    if hits and hits[0].exact:
        return None  # the question named this clause; it needs no evidence of being on topic
    if too_general:
        return "the question names no topic; ask about one, e.g. talent, land or finance" if english else (
            "问题太笼统，请说明想了解哪方面的规定，例如人才、土地、金融"
        )
    # Cross-language similarity barely tells on-topic from off-topic English questions (rag/calibration.py):
    # they must also share a term with what they retrieve. A Chinese one's similarity is evidence enough.
    if not hits or not calibration.covers(hits[0].similarity, _language(analysis)) or (english and overlap == 0.0):
        return "nothing in them addresses this question" if english else "没有找到与问题相关的规定"
    asked = asked_quantities(analysis.text)
    # A list answers "how many places" by itself; any other figure must be stated.
    counted_by_list = analysis.form is Form.ENUMERATE and asked.quantities <= {Quantity.COUNT, Quantity.ANY}
    if asked.wants_number and analysis.intent is not Intent.COMPARE and not counted_by_list:
        sentences = [
            _without_given_numbers(s, analysis.text)
            for i, hit in enumerate(hits[:3])
            for s in _evidence_sentences(hit, focus, first=i == 0)
        ]
        missing = missing_quantities(asked, sentences)
        if missing:
            words = "、".join(_QUANTITY_WORDS[q][1 if english else 0] for q in sorted(missing))
            return f"they state no {words} for this" if english else f"相关条款没有规定{words}"
    return None


def _abstention(
    names: Registry, analysis: QuestionAnalysis, hits: Sequence[ClauseHit], reason: str
) -> tuple[str, list[Citation]]:
    sources = _Sources([])
    lines = []
    english = analysis.is_english
    for hit in hits[:RELATED_SHOWN]:
        sentence = _best_sentence(hit)
        lines.append(_line(names, hit, sentence, sources.cite(hit, [sentence]), english))
    if english:
        head = f"Not covered: the policy documents in the library do not answer this ({reason})."
        tail = ["Possibly related clauses (original Chinese):"] if lines else []
    else:
        head = f"已收录的政策文件中没有找到能回答这个问题的内容（{reason}）。"
        tail = ["以下条款可能相关，仅供参考："] if lines else []
    return "\n".join([head, *tail, *lines]), sources.items


def _language(analysis: QuestionAnalysis) -> str:
    return "en" if analysis.is_english else "zh"


def _compare(
    names: Registry,
    calibration: Calibration,
    analysis: QuestionAnalysis,
    hits: Sequence[ClauseHit],
    documents: Sequence[Document],
    terms: Terms,
) -> tuple[list[str], list[Citation], list[ComparisonRow]]:
    sources = _Sources([])
    english = analysis.is_english
    lines: list[str] = []
    rows: list[ComparisonRow] = []
    compared = [d for d in documents if any(h.document.id == d.id for h in hits)]
    said: dict[str, list[str]] = {}
    per_document = max(1, min(MAX_PER_DOCUMENT, COMPARISON_QUOTES // max(1, len(compared))))
    for document in compared:
        own = [h for h in hits if h.document.id == document.id]
        if not own:
            continue
        best = own[0]
        shown = [best] + [h for h in own[1:per_document] if h.score >= COMPARISON_SCORE_RATIO * best.score]
        name = names.short_name(document, english)
        if not calibration.found(best.similarity, _language(analysis)):
            summary = "no provision on this" if english else "未见相关规定"
            lines.append(f"- {name}：{summary}")
            rows.append(ComparisonRow(document, summary, (), False))
            continue
        quoted = []
        for hit in shown:
            sentence = _best_sentence(hit)
            quoted.append((hit, sentence, sources.cite(hit, [sentence])))
        summary = "；".join(f"{hit.clause.label}“{sentence}”[{n}]" for hit, sentence, n in quoted)
        lines.append(f"- {name}：{summary}")
        rows.append(ComparisonRow(document, summary, tuple(n for _, _, n in quoted), True))
        said[name] = [sentence for _, sentence, _ in quoted]
    head = "By document (quoted in the original Chinese):" if english else "各文件的相关规定："
    return [head, *lines, *common_and_different(said, terms, english)], sources.items, rows


def _direct(
    names: Registry,
    analysis: QuestionAnalysis, hits: Sequence[ClauseHit], focus: frozenset[str], overlap: float = 1.0
) -> tuple[list[str], list[Citation]]:
    sources = _Sources([])
    english = analysis.is_english
    lines: list[str] = []
    top = hits[0]
    asked = asked_quantities(analysis.text)
    if top.exact:
        for fact, zh, en in _document_facts(analysis, top.document):
            lines.append(f"{en.capitalize()}: {fact}" if english else f"{zh}：{fact}")
        text = top.clause.text
        lines.append(_line(names, top, text, sources.cite(top, [text]), english))
        return lines, sources.items
    if analysis.intent is Intent.RESPONSIBLE:
        # Only the answering clause's own note: another clause's units would be a wrong answer.
        with_units = top if _unit_note(top) else None
        if with_units is None:
            lines.append("The provision below names no responsible unit:" if english else "下面这一条没有写明负责单位：")
        else:
            sentence = _best_sentence(with_units)
            unit_note = _unit_note(with_units, after=sentence)
            note = with_units.clause.text[unit_note.span[0] : unit_note.span[1]]
            n = sources.cite(with_units, [sentence, note])
            units = "、".join(unit_note.lead or unit_note.responsible)
            lead = f"Responsible: {units}" if english else f"负责单位：{units}"
            lines.append(f"{lead}[{n}]")
            lines.append(_line(names, with_units, [sentence, note], n, english))
            return lines, sources.items
    if overlap < UNCERTAIN_OVERLAP:
        return _candidates(names, analysis, hits, sources)
    want = None
    if asked.wants_number:
        want = min(asked.quantities)
        # Lead with the clause whose matching sentence states the figure asked for.
        top = next(
            (h for i, h in enumerate(hits[:3]) if any(_states(s, want) for s in _evidence_sentences(h, focus, i == 0))),
            top,
        )
    first = _best_sentence(top, want, focus)
    others = [h for h in hits if h is not top]
    if analysis.form is Form.ENUMERATE:
        return _enumeration(names, analysis, [top, *others], focus, sources)
    n = sources.cite(top, [first])
    on_focus = bool(focus) and _focus_share(first, focus) >= FOCUS_SHARE
    if analysis.form is Form.YESNO and not asked.wants_number and on_focus:
        lines.append(f"{yes_or_no(analysis.text, first, english)}[{n}]")
    lines.append(_line(names, top, first, n, english))
    close = [h for h in others[:MAX_RELATED] if h.score >= RELATED_SCORE_RATIO * hits[0].score]
    if not english:
        # Related provisions only when they hold the question's distinctive words as much as the
        # answer does. An English question's words are translations, too loose to judge by, and its
        # first clause is less often the right one: its close runners-up stay.
        floor = max(_focus_share(first, focus), FOCUS_SHARE) if focus else None
        close = [h for h in close if floor is not None and _focus_share(_best_sentence(h, want), focus) >= floor]
    related = close
    if related:
        lines.append("Related provisions:" if english else "相关规定：")
    for hit in related:
        sentence = _best_sentence(hit, want)
        lines.append(_line(names, hit, sentence, sources.cite(hit, [sentence]), english))
    return lines, sources.items


def _enumeration(
    names: Registry, analysis: QuestionAnalysis, hits: Sequence[ClauseHit], focus: frozenset[str], sources: _Sources
) -> tuple[list[str], list[Citation]]:
    """A question asking for a list (哪几项…分别, 几处): every close clause holding what it asks
    about (its distinctive words, or the phrase it quotes), counted and quoted one by one."""
    english = analysis.is_english
    top = hits[0]

    def holds(hit: ClauseHit) -> bool:
        if analysis.phrases:
            return all(p in hit.clause.normalized for p in analysis.phrases)
        if english or not focus:  # translated words are too loose to judge by
            return True
        return _focus_share(_best_sentence(hit), focus) >= FOCUS_SHARE

    close = [h for h in hits[:LISTED_AT_MOST] if h.score >= ENUMERATION_SCORE_RATIO * top.score]
    listed = [h for h in close if holds(h)] or [top]
    lines = [f"{len(listed)} provisions:" if english else f"共{len(listed)}处："]
    for i, hit in enumerate(listed, start=1):
        sentence = _best_sentence(hit)
        lines.append(f"{i}. " + _line(names, hit, sentence, sources.cite(hit, [sentence]), english))
    return lines, sources.items


def _candidates(
    names: Registry,
    analysis: QuestionAnalysis, hits: Sequence[ClauseHit], sources: _Sources
) -> tuple[list[str], list[Citation]]:
    english = analysis.is_english
    lines = [
        "The question is worded far from the documents; these provisions come closest (check them):"
        if english
        else "问题的说法与文件用语差别较大，以下几条规定最接近，请对照原文确认："
    ]
    for hit in hits[:CANDIDATES_SHOWN]:
        sentence = _best_sentence(hit)
        lines.append(_line(names, hit, sentence, sources.cite(hit, [sentence]), english))
    return lines, sources.items


def keyword_only_answer(
    names: Registry, question: str, resolved_question: str, analysis: QuestionAnalysis, hits: Sequence[ClauseHit]
) -> Answer:
    """While the library's vectors are still being made, search is by keywords alone and nothing
    measures how close a clause comes to the question: the closest clauses are listed as candidates,
    and the answer says why."""
    english = analysis.is_english
    if not hits:
        text = ("The semantic index is still being built, and a keyword search found nothing for this question."
                if english else "语义检索索引仍在建立中，按关键词检索没有找到相关规定。")
        return Answer(question, resolved_question, text, True, (), ())
    sources = _Sources([])
    lines = [
        "The semantic index is still being built; these provisions were found by keywords alone (check them):"
        if english
        else "语义检索索引仍在建立中，以下规定仅按关键词检索得到，请对照原文确认："
    ]
    for hit in hits[:CANDIDATES_SHOWN]:
        sentence = _best_sentence(hit)
        lines.append(_line(names, hit, sentence, sources.cite(hit, [sentence]), english))
    lines += _draft_note(names, sources.items, english)
    return Answer(question, resolved_question, "\n".join(lines), False, tuple(sources.items), tuple(hits))


def compose(
    names: Registry,
    calibration: Calibration,
    question: str,
    resolved_question: str,
    analysis: QuestionAnalysis,
    hits: Sequence[ClauseHit],
    documents: Sequence[Document],
    corpus_years: CorpusYears,
    overlap: float = 1.0,
    focus: frozenset[str] = frozenset(),
    too_general: bool = False,
    terms: Terms = lambda text: (),
) -> Answer:
    """The extractive answer to `resolved_question` from `hits` (best first).

    `names` is the library's registry (how documents and places are named); `documents` are the
    documents a comparison should cover, in display order; `corpus_years`
    the years any clause mentions (a question about another year is not covered); `overlap` the
    share of the question's words found in the top clauses; `focus` its distinctive words (a figure
    counts as the answer only in a sentence holding one); `too_general` whether it names no topic.
    """
    reason = _abstain_reason(calibration, analysis, hits, documents, corpus_years, overlap, focus, too_general)
    if reason is not None:
        text, citations = _abstention(names, analysis, hits, reason)
        return Answer(question, resolved_question, text, True, tuple(citations), tuple(hits))
    rows: list[ComparisonRow] = []
    if analysis.intent is Intent.COMPARE:
        lines, citations, rows = _compare(names, calibration, analysis, hits, documents, terms)
    else:
        lines, citations = _direct(names, analysis, hits, focus, overlap)
    if analysis.is_english:
        lines.insert(0, "According to the policy documents in the library (quoted in the original Chinese):")
    lines += _uncovered_note(names, analysis)
    lines += _draft_note(names, citations, analysis.is_english)
    return Answer(question, resolved_question, "\n".join(lines), False, tuple(citations), tuple(hits), tuple(rows))
