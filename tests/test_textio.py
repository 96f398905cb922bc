"""Reading corpus files: the supported encodings decode to the same text; binary input is refused."""

from __future__ import annotations

import pytest

from rag.errors import CorpusError, DecodeError
from rag.settings import PACKAGE_CORPUS_DIR
from rag.textio import decode_bytes, read_text

HEBEI_TRADITIONAL = PACKAGE_CORPUS_DIR / "001_f2cc480d52bcecb0.txt"
GUOFA = PACKAGE_CORPUS_DIR / "002_aceb60dd589429a8.txt"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-32", "gb18030", "gbk"])
def test_supported_encodings_decode_to_the_utf8_text(encoding: str) -> None:
    text = GUOFA.read_text(encoding="utf-8")
    data = text.encode(encoding)
    if encoding == "utf-16-le":
        data = b"\xff\xfe" + data  # UTF-16 is read only with its byte-order mark
    assert decode_bytes(data) == text


def test_traditional_scraped_page_survives_gb18030(tmp_path) -> None:
    text = HEBEI_TRADITIONAL.read_text(encoding="utf-8")
    path = tmp_path / "page.txt"
    path.write_bytes(text.encode("gb18030"))
    assert read_text(path) == text


def test_line_endings_are_kept_so_offsets_match_the_file() -> None:
    assert decode_bytes("一、总体要求\r\n（一）指导思想。\r\n".encode()) == "一、总体要求\r\n（一）指导思想。\r\n"


def test_binary_file_gives_one_line_decode_error_naming_the_file(tmp_path) -> None:
    path = tmp_path / "scan.pdf"
    path.write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 4)
    with pytest.raises(DecodeError) as error:
        read_text(path)
    message = str(error.value)
    assert "scan.pdf" in message and "\n" not in message
    assert "binary" in message


def test_png_bytes_are_refused() -> None:
    with pytest.raises(DecodeError, match=r"x\.png"):
        decode_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", name="x.png")


def test_high_bytes_that_gb18030_would_swallow_are_refused() -> None:
    # No NUL and no control byte: only the GB18030 check can tell this is not text.
    junk = bytes([0x81, 0x30, 0xFE, 0x39, 0x84, 0x31, 0xA4, 0x39]) * 50
    with pytest.raises(DecodeError, match="unassigned"):
        decode_bytes(junk, name="junk.bin")


def test_control_characters_mark_text_as_binary() -> None:
    with pytest.raises(DecodeError, match="U\\+0001"):
        decode_bytes("一、总体要求\x01\x02".encode(), name="odd.txt")


def test_invalid_utf8_that_is_valid_gbk_is_read_as_gbk() -> None:
    assert decode_bytes("高新区".encode("gbk")) == "高新区"


def test_missing_file_is_a_corpus_error_naming_it(tmp_path) -> None:
    with pytest.raises(CorpusError, match=r"nothere\.txt"):
        read_text(tmp_path / "nothere.txt")
