"""What was read from a document on its way into the library, field by field, with the line each field
came from: `policy-rag add` prints it, the chat's 文件库 tab shows it for correcting before adding.

    for field in detected_fields(prepared):
        print(field.option, field.value or "unknown", field.line, field.line_text)

Each value is in the form the matching override option takes (`--level provincial`, `--date
2020年7月13日`), so a corrected value goes back through `parse_overrides` unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

from rag.library_checks import Prepared

__all__ = ["DetectedField", "detected_fields"]

OPTION_OF = {"doc_number": "number"}
"""Fields whose override option has another name (FIELDS → OVERRIDE_OPTIONS)."""


@dataclass(frozen=True, slots=True)
class DetectedField:
    field: str
    """The name in rag.documents.FIELDS."""
    option: str
    """The override option that sets it (rag.library_changes.OVERRIDE_OPTIONS)."""
    value: str | None
    """None: the text does not give it (unknown)."""
    source: str = ""
    """How it was found: "text", "derived", "override", …"""
    note: str = ""
    line: int | None = None
    """The 1-based line of the text it was read from, if it was read from one."""
    line_text: str = ""
    """That line, stripped."""

    @property
    def where(self) -> str:
        """The source and its note, e.g. "derived (from the file name)"."""
        return self.source + (f" ({self.note})" if self.note else "")


def detected_fields(prepared: Prepared) -> tuple[DetectedField, ...]:
    """Every metadata field of a read document (rag.documents.FIELDS order), known or not."""
    from rag.documents import FIELDS

    facts = prepared.facts
    lines = prepared.text.splitlines()
    evidence = {e.field: e for e in facts.evidence}
    fields = []
    for name in FIELDS:
        option = OPTION_OF.get(name, name)
        value = getattr(facts, name)
        if value is None:
            fields.append(DetectedField(name, option, None))
            continue
        ev = evidence.get(name)
        if ev is None:
            fields.append(DetectedField(name, option, str(value)))
            continue
        line = ev.line if ev.line is not None and 0 < ev.line <= len(lines) else None
        fields.append(DetectedField(name, option, str(value), ev.source, ev.note or "", line,
                                    lines[line - 1].strip() if line else ""))
    return tuple(fields)
