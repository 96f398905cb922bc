"""The facts of one document file: what its text says about itself (rag/metadata_text.py), then the
overrides on top.

    facts = read_facts("条例.md", text, overrides={"title": Override("…", "--title")})

Every field keeps its evidence (FieldEvidence): the line and span it was read from, or that it was
derived or overridden. A field nobody gives is None ("unknown"); status defaults to in force and the
title to the file name (marked as derived), so a document always loads.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from rag.documents import FIELDS, FieldEvidence, Level, Status, chinese_date
from rag.metadata import FileFacts, valid_id
from rag.normalize import to_simplified

__all__ = ["Override", "document_id", "read_facts"]

_CJK = re.compile(r"[\u4e00-\u9fff\u3400-\u4dbf\uf900-\ufaff]")


@dataclass(frozen=True, slots=True)
class Override:
    """A value given by metadata.toml or an option; None means "unknown" on purpose."""

    value: object
    note: str


def read_facts(
    file: str,
    text: str,
    *,
    overrides: Mapping[str, Override] | None = None,
    doc_id: str | None = None,
) -> FileFacts:
    """The facts of `file` whose text is `text`; overrides win field by field. `doc_id` (or an "id"
    override) names the document, else an id is made from the facts and the text (document_id)."""
    from rag.metadata_text import read_metadata

    overrides = dict(overrides or {})
    read = read_metadata(text, file_name=PurePath(file).name)
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
    if "genre" not in values and "genre" not in overrides:
        genre = read_metadata(str(values["title"])).genre
        if genre is not None and genre.value:
            values["genre"] = genre.value
            evidence["genre"] = FieldEvidence("genre", "derived", note="from the title")
    if "status" not in values:
        values["status"] = Status.IN_FORCE
        evidence["status"] = FieldEvidence("status", "derived", note="no draft, trial or repeal mark in the text")
    script_override = overrides.get("script")
    script = str(script_override.value) if script_override and script_override.value else read.script
    id_override = overrides.get("id")
    chosen_id = str(id_override.value) if id_override and id_override.value else doc_id
    return FileFacts(
        file=file,
        id=chosen_id or document_id(values, text),
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
    ev = fact.evidence
    if ev is None:
        return value, FieldEvidence(name, "derived")
    if ev.line < 1 or ev.span[0] == ev.span[1]:  # not from the text: a file name
        note = "from the file name" if name == "title" else ""
        return value, FieldEvidence(name, ev.source, note=note)
    return value, FieldEvidence(name, ev.source, line=ev.line, span=(ev.span[0], ev.span[1]))


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


def document_id(values: Mapping[str, object], text: str) -> str:
    """A readable, deterministic id: where the document is from (the English name of its city or region,
    "national"), its number's year and serial or its date, and a short hash of the text.

    深圳市…〔2021〕5号 → shenzhen-2021-5-1a2b3c; a Henan regulation of 2011年6月10日 → henan-20110610-1a2b3c.
    """
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:6]
    parts = [_place(values)]
    numbers = re.findall(r"\d+", str(values["doc_number"])) if values.get("doc_number") else []
    if numbers:
        parts += numbers[:2]
    elif values.get("date"):
        parts.append("".join(f"{int(n):02d}" for n in re.findall(r"\d+", str(values["date"]))[:3]))
    parts.append(digest)
    candidate = "-".join(p for p in parts if p)
    return candidate if valid_id(candidate) else f"doc-{digest}"


def _place(values: Mapping[str, object]) -> str:
    if values.get("level") == Level.NATIONAL or values.get("region") == "全国":
        return "national"
    from rag.gazetteer import load_gazetteer

    for key in ("city", "region"):
        name = values.get(key)
        division = load_gazetteer().by_name(str(name)) if name else None
        if division is not None and division.english:
            return re.sub(r"[^a-z0-9]+", "-", division.english.lower()).strip("-")
    return "doc"
