"""Files on their way into the library: which paths to take, and their text, or a one-line refusal.

`collect` walks the paths given to `policy-rag add` (files, and folders recursively): files with a
supported suffix are candidates, other files are listed as skipped, and paths that are unsafe (a `..`
component, a symlink leading out of the folder being added) are refused. `extract` turns one file
into text, refusing (DocumentRejected) binary data, empty files, files over the size limit and text
without recognisable Chinese; the formats themselves are rag/formats.py's business.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rag.errors import DocumentRejected

__all__ = [
    "Candidate",
    "Collected",
    "DocumentRejected",
    "Extracted",
    "collect",
    "extract",
    "extract_text_of",
    "supported_suffixes",
]

MIN_CHINESE_CHARS = 20
"""A policy document holds at least this many Chinese characters; fewer is "no recognisable text"."""
_CJK = re.compile(r"[\u4e00-\u9fff\u3400-\u4dbf\uf900-\ufaff]")


def supported_suffixes() -> frozenset[str]:
    """The file suffixes the library reads (lower case, with the dot)."""
    from rag.formats import SUPPORTED_SUFFIXES

    return frozenset(s.lower() for s in SUPPORTED_SUFFIXES)


@dataclass(frozen=True, slots=True)
class Extracted:
    text: str
    format: str
    notes: tuple[str, ...] = ()


def extract(path: Path, max_bytes: int) -> Extracted:
    """The text of one file (rag/formats.py); DocumentRejected (one line naming the file) when it cannot
    be a document: unsupported, binary, empty, over the size limit, scanned, encrypted, or without
    recognisable Chinese text."""
    from rag.formats import extract_text

    result = extract_text(path, max_bytes=max_bytes)
    chinese = len(_CJK.findall(result.text))
    if chinese < MIN_CHINESE_CHARS:
        raise DocumentRejected(
            f"{path.name}: no recognisable text (only {chinese} Chinese characters); a policy document is expected"
        )
    return Extracted(result.text, result.format, tuple(result.notes))


def extract_text_of(path: Path) -> str:
    """The text of a bundled corpus file in a format other than .txt."""
    from rag.formats import DEFAULT_MAX_BYTES

    return extract(path, DEFAULT_MAX_BYTES).text


@dataclass(frozen=True, slots=True)
class Candidate:
    path: Path
    """The file to read (symlinks resolved)."""
    shown: str
    """The path as the person gave it (or under the folder they gave), for messages."""

    @property
    def name(self) -> str:
        return Path(self.shown).name


@dataclass(slots=True)
class Collected:
    candidates: list[Candidate] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    """(path, why): files the library does not read (another suffix, hidden)."""
    refused: list[tuple[str, str]] = field(default_factory=list)
    """(path, why): unsafe or missing paths."""


def collect(paths: Sequence[str | os.PathLike[str]]) -> Collected:
    """The files to add from these paths (files and folders, recursively), in a stable order."""
    out = Collected()
    suffixes = supported_suffixes()
    seen: set[Path] = set()

    def take(path: Path, shown: str) -> None:
        if path.name.startswith("."):
            out.skipped.append((shown, "hidden file"))
        elif path.suffix.lower() not in suffixes:
            out.skipped.append((shown, f"not a supported format ({', '.join(sorted(suffixes))})"))
        elif path not in seen:
            seen.add(path)
            out.candidates.append(Candidate(path, shown))

    for given in paths:
        shown = os.fspath(given)
        arg = Path(shown)
        if ".." in arg.parts:
            out.refused.append((shown, f"{shown}: a path with '..' components is refused; give it without '..'"))
            continue
        if not arg.exists() and not arg.is_symlink():
            out.refused.append((shown, f"{shown}: no such file or folder"))
            continue
        if arg.is_dir():
            root = arg.resolve()
            for file, inner_shown, problem in _walk(root, shown):
                if problem:
                    out.refused.append((inner_shown, problem))
                elif file is not None:
                    take(file, inner_shown)
            continue
        target = arg.resolve()
        if arg.is_symlink() and not _inside(target, arg.parent.resolve()):
            out.refused.append((shown, f"{shown}: a symlink leading out of its folder is refused"))
        elif not target.is_file():
            out.refused.append((shown, f"{shown}: not a regular file"))
        else:
            take(target, shown)
    return out


def _walk(root: Path, shown_root: str) -> Iterable[tuple[Path | None, str, str | None]]:
    """(file, shown path, problem) for every file under root, without following symlinks out of it."""
    for directory, dirs, files in os.walk(root, followlinks=False):
        dirs.sort()
        here = Path(directory)
        entries = sorted(files) + [d for d in dirs if (here / d).is_symlink()]
        for entry in entries:
            path = here / entry
            shown = os.path.join(shown_root, os.path.relpath(path, root))
            if path.is_symlink():
                target = path.resolve()
                if not _inside(target, root):
                    yield None, shown, f"{shown}: a symlink leading out of the folder being added is refused"
                    continue
                if target.is_dir():
                    continue  # its files are reached inside root anyway
                yield target, shown, None
            elif path.is_file():
                yield path, shown, None


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents
