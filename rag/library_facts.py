"""The facts of one document file: what its text says about itself, then the overrides on top.

    facts = read_facts("条例.md", text, overrides={"title": Override("…", "--title")})

Every field keeps its evidence (FieldEvidence): the line and span it was read from, or that it was
derived or overridden. A field nobody gives is None ("unknown"); status defaults to in force and the
title to the file name (marked as derived), so a document always loads.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from rag.documents import FIELDS, FieldEvidence, Level, Status, chinese_date
from rag.metadata import FileFacts, valid_id
from rag.normalize import to_simplified

__all__ = ["Override", "detect_script", "document_id", "read_facts", "text_metadata_reader"]

_CJK = re.compile(r"[\u4e00-\u9fff\u3400-\u4dbf\uf900-\ufaff]")
_TRADITIONAL_SHARE = 0.03
"""A text is traditional when more than this share of its Chinese characters change under t2s."""
_MD_MARKS = re.compile(r"^\s*(?:#+\s*|[*_>]+\s*)")


@dataclass(frozen=True, slots=True)
class Override:
    """A value given by metadata.toml or an option; None means "unknown" on purpose."""

    value: object
    note: str


def text_metadata_reader() -> Callable[..., Any]:
    """rag.metadata_text.read_metadata when it is installed, else a minimal reader (title only)."""
    try:
        from rag.metadata_text import read_metadata
    except ImportError:
        return _fallback_read_metadata
    return read_metadata


def read_facts(
    file: str,
    text: str,
    *,
    overrides: Mapping[str, Override] | None = None,
    doc_id: str | None = None,
) -> FileFacts:
    """The facts of `file` whose text is `text`; overrides win field by field. `doc_id` (or an "id"
    override) names the document, else an id is made from the facts and the text (document_id)."""
    overrides = dict(overrides or {})
    read = text_metadata_reader()(text, file_name=PurePath(file).name)
    values: dict[str, object] = {}
    evidence: dict[str, FieldEvidence] = {}
    for name in FIELDS:
        value, ev = _from_text(name, getattr(read, name, None))
        if value is not None:
            values[name], evidence[name] = value, ev or FieldEvidence(name, "text")
    if "title" in overrides and "genre" not in overrides:
        values.pop("genre", None)
        evidence.pop("genre", None)
    for name in FIELDS:
        if name in overrides:
            override = overrides[name]
            if override.value is None:
                values.pop(name, None)
                evidence.pop(name, None)
            else:
                values[name] = override.value
                evidence[name] = _located(name, str(override.value), text, override.note)
    title_derived = False
    if "title" in values:
        title_derived = evidence["title"].source == "derived"
    else:
        values["title"] = _title_from_file_name(file)
        evidence["title"] = FieldEvidence("title", "derived", note="from the file name")
        title_derived = True
    if "title_derived" in overrides:
        title_derived = bool(overrides["title_derived"].value)
    if "genre" not in values:
        genre = getattr(text_metadata_reader()(str(values["title"])), "genre", None)
        if genre is not None and genre.value:
            values["genre"] = genre.value
            evidence["genre"] = FieldEvidence("genre", "derived", note="from the title")
    if "status" not in values:
        values["status"] = Status.IN_FORCE
        evidence["status"] = FieldEvidence("status", "derived", note="no draft, trial or repeal mark in the text")
    script_override = overrides.get("script")
    script = str(script_override.value) if script_override and script_override.value else detect_script(text)
    id_override = overrides.get("id")
    chosen_id = str(id_override.value) if id_override and id_override.value else doc_id
    return FileFacts(
        file=file,
        id=chosen_id or document_id(values.get("doc_number"), values.get("date"), text),  # type: ignore[arg-type]
        title=str(values["title"]),
        title_derived=title_derived,
        issuer=_str(values.get("issuer")),
        doc_number=_str(values.get("doc_number")),
        date=_str(values.get("date")),
        level=values.get("level"),  # type: ignore[arg-type]
        region=_str(values.get("region")),
        status=values["status"],  # type: ignore[arg-type]
        script=script,
        city=_str(values.get("city")),
        genre=_str(values.get("genre")),
        evidence=tuple(evidence[name] for name in FIELDS if name in evidence),
    )


def _str(value: object) -> str | None:
    return None if value is None else str(value)


def _from_text(name: str, fact: Any) -> tuple[object | None, FieldEvidence | None]:
    """A metadata_text Fact as (value in Document form, evidence), or (None, None)."""
    if fact is None or not getattr(fact, "value", None):
        return None, None
    raw = str(fact.value).strip()
    value: object = raw
    try:
        if name == "level":
            value = Level(raw)
        elif name == "status":
            value = Status(raw)
        elif name == "date":
            value = chinese_date(raw)
    except ValueError:
        return None, None
    if value is None:
        return None, None
    ev = getattr(fact, "evidence", None)
    if ev is None:
        return value, FieldEvidence(name, "derived")
    source = ev.source if ev.source in ("text", "derived") else "derived"
    span = tuple(ev.span) if ev.span is not None else None
    return value, FieldEvidence(name, source, line=ev.line, span=span)  # type: ignore[arg-type]


def _located(name: str, value: str, text: str, note: str) -> FieldEvidence:
    """Override evidence, with the line and span where the text prints the value, if it does."""
    start = text.find(value)
    if start < 0 and _CJK.search(value):
        simplified = to_simplified(text)
        if len(simplified) == len(text):
            start = simplified.find(to_simplified(value))
    if start < 0:
        return FieldEvidence(name, "override", note=note)
    return FieldEvidence(name, "override", line=text.count("\n", 0, start) + 1,
                         span=(start, start + len(value)), note=note)


def _title_from_file_name(file: str) -> str:
    return PurePath(file).stem.strip() or file


def detect_script(text: str) -> str:
    """"traditional" when a noticeable share of the Chinese characters are traditional forms."""
    chars = _CJK.findall(text[:20000])
    if not chars:
        return "simplified"
    sample = "".join(chars)
    simplified = to_simplified(sample)
    if len(simplified) != len(sample):
        return "traditional"
    changed = sum(a != b for a, b in zip(sample, simplified))
    return "traditional" if changed / len(sample) > _TRADITIONAL_SHARE else "simplified"


def document_id(doc_number: object, date: object, text: str) -> str:
    """A readable, deterministic id: the number's year and serial (or the date) and a short hash of the text.

    国发〔2020〕7号 → doc-2020-7-1a2b3c; a regulation dated 2011年6月10日 → doc-20110610-1a2b3c.
    """
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:6]
    parts = ["doc"]
    numbers = re.findall(r"\d+", str(doc_number)) if doc_number else []
    if numbers:
        parts += numbers[:2]
    elif date:
        parts.append("".join(f"{int(n):02d}" for n in re.findall(r"\d+", str(date))[:3]))
    parts.append(digest)
    candidate = "-".join(parts)
    return candidate if valid_id(candidate) else f"doc-{digest}"


# --- A minimal reader until rag/metadata_text.py lands: the title from the first line, nothing else.


@dataclass(frozen=True, slots=True)
class _Evidence:
    line: int
    span: tuple[int, int]
    source: str = "text"


@dataclass(frozen=True, slots=True)
class _Fact:
    value: str
    evidence: _Evidence | None


@dataclass(frozen=True, slots=True)
class _TextMetadata:
    title: _Fact | None = None


def _fallback_read_metadata(text: str, *, file_name: str = "", gazetteer: object = None) -> _TextMetadata:
    offset = 0
    for number, line in enumerate(text.splitlines(keepends=True), start=1):
        stripped = line.strip()
        if stripped:
            mark = _MD_MARKS.match(line)
            start = offset + (mark.end() if mark else len(line) - len(line.lstrip()))
            title = text[start : offset + len(line.rstrip())].strip()
            if 4 <= len(title) <= 80 and not re.search(r"[。；]", title) and _CJK.search(title):
                return _TextMetadata(_Fact(title, _Evidence(number, (start, start + len(title)))))
            return _TextMetadata()
        offset += len(line)
    return _TextMetadata()
