"""Reading corpus files: bytes to text in UTF-8, UTF-16/32 (with BOM) or GB18030, never binary.

Spans elsewhere are character offsets into the text this module returns (a BOM is not part of it;
line endings are kept as they are in the file).
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from pathlib import Path

from rag.errors import CorpusError, DecodeError

__all__ = ["decode_bytes", "read_text"]

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16 LE: its BOM starts with the same two bytes
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")
"""Control characters (category Cc) other than tab, line feed, vertical tab, form feed and return."""
_MAX_UNASSIGNED_SHARE = 0.01
"""GB18030 maps almost any byte string to some code point; real text is almost never private-use or
unassigned, so more than 1% of such characters means the bytes were not GB18030 text."""

_HINT = "corpus files must be text in UTF-8, UTF-16 with a BOM, or GB18030/GBK"


def read_text(path: Path) -> str:
    """The decoded text of a corpus file; DecodeError (one line, naming the file) if it is not text."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CorpusError(f"cannot read corpus file {path}: {exc.strerror or exc}; check that it exists") from exc
    return decode_bytes(data, name=path.name)


def decode_bytes(data: bytes, *, name: str = "<bytes>") -> str:
    """Decode strictly: a BOM decides, else UTF-8, else GB18030; binary-looking results are refused."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                text = data.decode(encoding)
            except UnicodeDecodeError as exc:
                raise DecodeError(
                    f"{name}: starts with a {encoding} byte-order mark but byte {exc.start} is invalid; {_HINT}"
                ) from None
            return _checked(text.removeprefix("\ufeff"), name, encoding)
    if b"\x00" in data:
        nul = data.index(0)
        raise DecodeError(f"{name}: binary data (NUL byte at offset {nul}), not text; {_HINT}")
    try:
        return _checked(data.decode("utf-8"), name, "utf-8")
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise DecodeError(f"{name}: not valid UTF-8 or GB18030 (bad byte at offset {exc.start}); {_HINT}") from None
    if text and _unassigned_share(text) > _MAX_UNASSIGNED_SHARE:
        raise DecodeError(
            f"{name}: bytes decode as GB18030 mostly to private-use or unassigned characters; binary, not text; {_HINT}"
        )
    return _checked(text, name, "gb18030")


def _checked(text: str, name: str, encoding: str) -> str:
    bad = _CONTROL.search(text)
    if bad:
        raise DecodeError(
            f"{name}: binary data (control character U+{ord(bad.group()):04X} at character {bad.start()} "
            f"as {encoding}), not text; {_HINT}"
        )
    return text


def _unassigned_share(text: str) -> float:
    odd = sum(1 for char in text if unicodedata.category(char) in ("Co", "Cn", "Cs"))
    return odd / len(text)
