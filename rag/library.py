"""The documents a user added: a library folder in the data folder, changed atomically with the index.

    data_dir/library/
        LIBRARY.json       the committed list of added documents: {"format": 1, "documents": [{"id", "folder"}]}
        PENDING.json       a change in progress: the list it makes, and the index version it is built for
        docs/<folder>/     one folder per added document, never changed once written:
            original.<ext>   the file as it was added, byte for byte
            text.txt         the text extracted from it (UTF-8); clause spans index into it
            metadata.json    the metadata record: every field with its value and evidence, the original
                             file name, content hashes, counts
        .staging-*/        a document folder being written (renamed into docs/ when complete)
        .lock              held by `add` and `remove` for their whole run

A change (add or remove) runs in this order, holding .lock:

    1. read and check every new file; refusals happen here, before anything is written;
    2. write each new document's folder under .staging-*, fsync it, rename it into docs/;
    3. write PENDING.json (the new list, the index root and the fingerprint the new index will have);
    4. build the index for the new list (index/store.py: a new version, then the CURRENT pointer);
    5. replace LIBRARY.json by PENDING.json (os.replace): the change is committed;
    6. delete folders no list names (a removed or replaced document's).

`--no-index` skips 3 and 4 and commits at once: the index is then stale until `policy-rag index`.

Every crash point leaves a consistent pair, resolved by `Library.state()` when anything next opens
the library (no re-embedding):
- before 3: LIBRARY.json and the index are the old pair; the unnamed folders are garbage;
- between 3 and the pointer switch in 4: the index still has the old fingerprint, so PENDING.json is
  dropped (rolled back);
- between the switch and 5: the index has PENDING.json's fingerprint, so PENDING.json is committed
  (rolled forward);
- after 5: the new pair; leftover folders are garbage, removed by the next change.
A reader that finds PENDING.json while another process holds .lock uses the list the index matches
and writes nothing. Garbage is only removed under .lock, after the state is resolved.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from index.atomic import atomic_write_text, fsync_path
from rag.corpus import SourceFile
from rag.documents import FIELDS, FieldEvidence, Level, Origin, Status
from rag.errors import CorpusError
from rag.metadata import FileFacts

try:
    import fcntl
except ImportError:  # Windows: changes are not guarded against each other
    fcntl = None  # type: ignore[assignment]

__all__ = ["FORMAT", "Entry", "Library", "LibraryBusyError", "LibraryState", "facts_from_record"]

FORMAT = 1
LIST_NAME = "LIBRARY.json"
PENDING_NAME = "PENDING.json"
DOCS_DIR = "docs"
STAGING_PREFIX = ".staging-"
LOCK_NAME = ".lock"
TEXT_NAME = "text.txt"
RECORD_NAME = "metadata.json"
ORIGINAL_STEM = "original"

IndexFingerprint = Callable[[Path], "str | None"]
"""The fingerprint (corpus hash) of the index version in use at a root, None if there is none."""


class LibraryBusyError(CorpusError):
    """Another add or remove is changing the library now."""


@dataclass(frozen=True, slots=True)
class Entry:
    id: str
    folder: str


@dataclass(frozen=True, slots=True)
class LibraryState:
    entries: tuple[Entry, ...]
    index_root: str | None = None
    """For a pending change: the index root (relative to the data folder) it is being built into."""
    fingerprint: str | None = None
    """For a pending change: the fingerprint that index will have."""

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(e.id for e in self.entries)

    def to_json(self) -> str:
        data: dict[str, Any] = {"format": FORMAT, "documents": [{"id": e.id, "folder": e.folder} for e in self.entries]}
        if self.index_root is not None:
            data["index"] = {"root": self.index_root, "fingerprint": self.fingerprint}
        return json.dumps(data, ensure_ascii=False, indent=1) + "\n"


class Library:
    """The library folder of one data folder (see the module docstring)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    @property
    def data_dir(self) -> Path:
        return self.root.parent

    # --- reading

    def committed(self) -> LibraryState:
        return self._read_list(self.root / LIST_NAME) or LibraryState(())

    def pending(self) -> LibraryState | None:
        return self._read_list(self.root / PENDING_NAME)

    def state(self, index_fingerprint: IndexFingerprint) -> LibraryState:
        """The state to use now: the committed list, or a pending one whose index was already switched.

        Resolves a change a killed `add`/`remove` left (see the module docstring) when no change is
        running; while one is, only chooses, writing nothing.
        """
        pending = self.pending()
        if pending is None:
            return self.committed()
        try:
            with self.lock():
                return self.resolve(index_fingerprint)
        except LibraryBusyError:
            return pending if self._index_switched(pending, index_fingerprint) else self.committed()

    def resolve(self, index_fingerprint: IndexFingerprint) -> LibraryState:
        """Under the lock: commit a pending change whose index was switched, drop any other; the committed state."""
        pending = self.pending()
        if pending is not None:
            if self._index_switched(pending, index_fingerprint):
                self._commit_pending()
            else:
                self.abort()
        return self.committed()

    def _index_switched(self, pending: LibraryState, index_fingerprint: IndexFingerprint) -> bool:
        if pending.index_root is None or pending.fingerprint is None:
            return False
        return index_fingerprint(self.data_dir / pending.index_root) == pending.fingerprint

    def sources(self, state: LibraryState) -> list[SourceFile]:
        """The added documents of a state, read from their folders."""
        return [self.read_source(entry) for entry in state.entries]

    def read_source(self, entry: Entry) -> SourceFile:
        folder = self.root / DOCS_DIR / entry.folder
        try:
            record_bytes = (folder / RECORD_NAME).read_bytes()
            record = json.loads(record_bytes.decode("utf-8"))
            text_bytes = (folder / TEXT_NAME).read_bytes()
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise CorpusError(
                f"the added document {entry.id} in {folder} is unreadable ({exc}); "
                f"remove it with `policy-rag remove {entry.id}` and add it again"
            ) from None
        if hashlib.sha256(text_bytes).hexdigest() != record.get("text_sha256"):
            raise CorpusError(
                f"the text of the added document {entry.id} ({folder / TEXT_NAME}) is damaged; "
                f"remove it with `policy-rag remove {entry.id}` and add it again"
            )
        facts = facts_from_record(record)
        fingerprint = hashlib.sha256(record_bytes).hexdigest()
        return SourceFile(record["file"], text_bytes.decode("utf-8"), facts, Origin.ADDED, fingerprint)

    def record(self, entry: Entry) -> dict[str, Any]:
        return json.loads((self.root / DOCS_DIR / entry.folder / RECORD_NAME).read_text(encoding="utf-8"))

    def _read_list(self, path: Path) -> LibraryState | None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise CorpusError(f"the library list {path} is unreadable ({exc}); restore it or delete it") from None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise CorpusError(f"{path} is not a library list this program reads (format {FORMAT})")
        entries = tuple(Entry(str(d["id"]), str(d["folder"])) for d in data.get("documents", []))
        index = data.get("index") or {}
        return LibraryState(entries, index.get("root"), index.get("fingerprint"))

    # --- changing (only inside `with library.lock():`)

    @contextmanager
    def lock(self) -> Iterator[None]:
        """One change at a time; the operating system releases the lock if the process dies."""
        self.root.mkdir(parents=True, exist_ok=True)
        if fcntl is None:
            yield
            return
        with open(self.root / LOCK_NAME, "a+b") as handle:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise LibraryBusyError(
                    f"another policy-rag add or remove is changing the library in {self.root}; "
                    "wait for it to finish and try again"
                ) from None
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    def write_document(self, entry_id: str, original: bytes, suffix: str, text: str, record: dict[str, Any]) -> Entry:
        """Write one document's folder (staged, fsynced, renamed into docs/); not yet in any list."""
        folder = f"{entry_id}-{secrets.token_hex(3)}"
        staging = self.root / f"{STAGING_PREFIX}{folder}"
        staging.mkdir(parents=True)
        try:
            (staging / f"{ORIGINAL_STEM}{suffix}").write_bytes(original)
            text_bytes = text.encode("utf-8")
            (staging / TEXT_NAME).write_bytes(text_bytes)
            full = {**record, "stored_as": f"{ORIGINAL_STEM}{suffix}",
                    "text_sha256": hashlib.sha256(text_bytes).hexdigest()}
            (staging / RECORD_NAME).write_text(json.dumps(full, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
            for name in os.listdir(staging):
                fsync_path(staging / name)
            fsync_path(staging)
            docs = self.root / DOCS_DIR
            docs.mkdir(exist_ok=True)
            os.rename(staging, docs / folder)
            fsync_path(docs)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return Entry(entry_id, folder)

    def begin(self, state: LibraryState) -> None:
        """Record a change about to be built into the index (state carries index_root and fingerprint)."""
        atomic_write_text(self.root / PENDING_NAME, state.to_json())

    def commit(self, state: LibraryState) -> None:
        """Make state the committed list (from PENDING.json when it is the pending one)."""
        pending = self.pending()
        if pending is not None and pending.entries == state.entries:
            self._commit_pending()
        else:
            atomic_write_text(self.root / LIST_NAME, LibraryState(state.entries).to_json())
            (self.root / PENDING_NAME).unlink(missing_ok=True)

    def abort(self) -> None:
        """Drop a pending change (its folders become garbage)."""
        path = self.root / PENDING_NAME
        if path.exists():
            path.unlink()
            fsync_path(self.root)

    def _commit_pending(self) -> None:
        os.replace(self.root / PENDING_NAME, self.root / LIST_NAME)
        fsync_path(self.root)

    def collect_garbage(self) -> list[str]:
        """Remove document folders no list names and staging leftovers; the names removed."""
        keep = {e.folder for e in self.committed().entries}
        pending = self.pending()
        if pending is not None:
            keep |= {e.folder for e in pending.entries}
        removed = []
        if not self.root.is_dir():
            return removed
        for entry in self.root.iterdir():
            if entry.name.startswith(STAGING_PREFIX) or (entry.name.startswith(".") and entry.name.endswith(".partial")):
                _remove(entry)
                removed.append(entry.name)
        docs = self.root / DOCS_DIR
        if docs.is_dir():
            for entry in docs.iterdir():
                if entry.name not in keep:
                    _remove(entry)
                    removed.append(entry.name)
        return removed


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def facts_record(facts: FileFacts) -> dict[str, Any]:
    """The "fields" part of a metadata record: every field with its value and evidence."""
    evidence = {e.field: e for e in facts.evidence}
    fields: dict[str, Any] = {}
    for name in FIELDS:
        value = getattr(facts, name)
        item: dict[str, Any] = {"value": None if value is None else str(value)}
        if value is not None and name in evidence:
            item.update(evidence[name].record())
        else:
            item["source"] = "unknown"
        fields[name] = item
    return fields


def facts_from_record(record: dict[str, Any]) -> FileFacts:
    """The FileFacts a metadata record describes."""
    fields = record["fields"]

    def value(name: str) -> str | None:
        item = fields.get(name) or {}
        return item.get("value")

    evidence = []
    for name in FIELDS:
        item = fields.get(name) or {}
        if item.get("value") is not None and item.get("source") in ("text", "derived", "override"):
            span = item.get("span")
            evidence.append(FieldEvidence(name, item["source"], item.get("line"),
                                          tuple(span) if span else None, item.get("note", "")))  # type: ignore[arg-type]
    level = value("level")
    return FileFacts(
        file=record["file"],
        id=record["id"],
        title=value("title") or record["file"],
        title_derived=bool(record.get("title_derived", False)),
        issuer=value("issuer"),
        doc_number=value("doc_number"),
        date=value("date"),
        level=Level(level) if level else None,
        region=value("region"),
        status=Status(value("status") or Status.IN_FORCE.value),
        script=record.get("script", "simplified"),
        city=value("city"),
        genre=value("genre"),
        evidence=tuple(evidence),
    )
