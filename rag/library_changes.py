"""Adding documents to the library and removing them, with the index kept in step.

    report = add_documents(settings, ["河南省促进高新技术产业发展条例.md"], progress=tqdm)
    report = remove_documents(settings, ["河南省促进高新技术产业发展条例"])
    corpus = open_corpus(settings)          # bundled + added, as every command sees it

Each file is read and checked before anything is written: unsafe paths, binary, empty, oversized or
textless files are refused (one line each); a document already in the library (the same text, in
either script: rag/duplicates.py) is reported and not added again; a different version of one (the
same number or title, other text) replaces it only with `replace=True`. The accepted ones are then
written and committed in the order rag/library.py describes, so a crash at any point leaves a
library and an index that load and answer.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.corpus import Corpus, load_corpus
from rag.documents import Document, Level, Status, chinese_date
from rag.errors import CorpusError, PolicyQAError
from rag.library import Entry, Library, LibraryState, facts_record
from rag.library_checks import Checker, Outcome, Prepared, Verdict, read_candidate
from rag.library_facts import Override
from rag.library_files import collect

if TYPE_CHECKING:
    from rag.settings import Settings

__all__ = [
    "OVERRIDE_OPTIONS",
    "ChangeReport",
    "Outcome",
    "Prepared",
    "Verdict",
    "add_documents",
    "open_corpus",
    "parse_overrides",
    "remove_documents",
]

Progress = Callable[..., Any]
OVERRIDE_OPTIONS = ("title", "number", "issuer", "date", "level", "region", "city", "genre", "status")
"""The metadata a person may give when adding a document (number is the field doc_number)."""
ADD_EMBEDS_AT_MOST = 20_000
"""An add with more passages than this to embed (over five minutes on 2 cores) publishes keyword
search at once and leaves the vectors to `policy-rag index`, which shows its progress and continues
where it stopped when interrupted (docs/scale.md)."""


@dataclass(frozen=True, slots=True)
class IndexUpdate:
    clauses: int
    passages: int
    seconds: float
    keyword_only: bool = False
    """The vectors were left to `policy-rag index` (ADD_EMBEDS_AT_MOST): keyword search works meanwhile."""


@dataclass(frozen=True, slots=True)
class ChangeReport:
    outcomes: tuple[Outcome, ...] = ()
    removed: tuple[Document, ...] = ()
    """Documents taken out: those named to `remove`, or replaced by newer versions."""
    index: IndexUpdate | None = None
    """The index update, None when it was deferred (or nothing changed)."""

    @property
    def added(self) -> tuple[Prepared, ...]:
        return tuple(o.prepared for o in self.outcomes if o.verdict is Verdict.ADDED and o.prepared)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed)

    @property
    def failed(self) -> bool:
        """Whether any file was refused (including versions that need --replace)."""
        return any(o.verdict in (Verdict.REFUSED, Verdict.NEEDS_REPLACE) for o in self.outcomes)


def open_corpus(settings: Settings) -> Corpus:
    """The bundled corpus and the library's added documents, after resolving a change a crash left."""
    from rag.indexing import built_fingerprint

    library = Library(settings.library_dir)
    for attempt in range(2):
        state = library.state(built_fingerprint)
        try:
            return load_corpus(settings.corpus_dir, library.sources(state))
        except CorpusError:
            # A `remove` that committed while we read may have deleted a folder we were reading: read again.
            if attempt or library.state(built_fingerprint) == state:
                raise
    raise AssertionError("unreachable")


def parse_overrides(options: Mapping[str, str | None]) -> dict[str, Override]:
    """Checked overrides from option values (keys of OVERRIDE_OPTIONS; None or missing = not given)."""
    overrides: dict[str, Override] = {}
    for option in OVERRIDE_OPTIONS:
        raw = options.get(option)
        if raw is None:
            continue
        text = raw.strip()
        key = "doc_number" if option == "number" else option
        note = f"--{option}"
        if not text:
            overrides[key] = Override(None, note)
            continue
        value: object = text
        try:
            if option == "level":
                value = Level(text)
            elif option == "status":
                value = Status(text)
        except ValueError:
            choices = Level if option == "level" else Status
            raise PolicyQAError(f"--{option} {text!r} must be one of {', '.join(c.value for c in choices)}") from None
        if option == "date":
            value = chinese_date(text)
            if value is None or not _real_date(str(value)):
                raise PolicyQAError(f"--date {text!r} must be a date such as 2020-07-13 or 2020年7月13日")
        overrides[key] = Override(value, note)
    return overrides


def _real_date(chinese: str) -> bool:
    import datetime

    from rag.documents import iso_date

    try:
        datetime.date.fromisoformat(iso_date(chinese) or "")
    except ValueError:
        return False
    return True


def add_documents(
    settings: Settings,
    paths: Sequence[str | Path],
    *,
    overrides: Mapping[str, Override] | None = None,
    replace_versions: bool = False,
    build_index: bool = True,
    progress: Progress | None = None,
    embedder: Any = None,
) -> ChangeReport:
    """Add the documents in these files and folders; see the module docstring. `embedder`: a loaded
    embedding model to index with (the one a running service holds), else the settings' is loaded."""
    from rag.indexing import built_fingerprint

    collected = collect([str(p) for p in paths])
    if overrides and len(collected.candidates) > 1:
        raise PolicyQAError(
            f"metadata options (--title, --number, …) describe one document, but {len(collected.candidates)} files "
            "were given; add them one at a time to set their metadata"
        )
    outcomes: list[Outcome] = [Outcome(shown, Verdict.REFUSED, why) for shown, why in collected.refused]
    outcomes += [Outcome(shown, Verdict.SKIPPED, why) for shown, why in collected.skipped]
    read: list[Prepared] = []
    for candidate in collected.candidates:
        result = read_candidate(candidate, settings.max_upload_bytes, overrides or {})
        if isinstance(result, Prepared):
            read.append(result)
        else:
            outcomes.append(result)
    if not read:
        return ChangeReport(tuple(outcomes))  # nothing was touched, not even the lock file
    library = Library(settings.library_dir)
    with library.lock():
        state = library.resolve(built_fingerprint)
        library.collect_garbage()
        corpus = load_corpus(settings.corpus_dir, library.sources(state))
        checker = Checker(corpus, replace_versions)
        outcomes += [checker.check(prepared) for prepared in read]
        accepted = [o.prepared for o in outcomes if o.verdict is Verdict.ADDED and o.prepared]
        if not accepted:
            return ChangeReport(tuple(outcomes))
        replaced = {d.id: d for p in accepted for d in p.replaces}
        new_entries = [library.write_document(p.facts.id, p.original, p.suffix, p.text, _record(p)) for p in accepted]
        new_state = LibraryState((*(e for e in state.entries if e.id not in replaced), *new_entries))
        update = _commit(settings, library, new_state, build_index, progress, embedder)
        library.collect_garbage()
    return ChangeReport(tuple(outcomes), tuple(replaced.values()), update)


def remove_documents(
    settings: Settings, refs: Sequence[str], *, build_index: bool = True, progress: Progress | None = None,
    embedder: Any = None,
) -> ChangeReport:
    """Take the documents these references name (id, number or title) out of the library; all or nothing."""
    from rag.indexing import built_fingerprint

    library = Library(settings.library_dir)
    with library.lock():
        state = library.resolve(built_fingerprint)
        library.collect_garbage()
        targets = _removal_targets(settings, library, state, refs)
        ids = {entry.id for entry, _ in targets}
        new_state = LibraryState(tuple(e for e in state.entries if e.id not in ids))
        update = _commit(settings, library, new_state, build_index, progress, embedder)
        library.collect_garbage()
    return ChangeReport(removed=tuple(doc for _, doc in targets), index=update)


def _removal_targets(
    settings: Settings, library: Library, state: LibraryState, refs: Sequence[str]
) -> list[tuple[Entry, Document]]:
    by_id = {e.id: e for e in state.entries}
    try:
        corpus = load_corpus(settings.corpus_dir, library.sources(state))
    except CorpusError:
        # A damaged added document stops loading; it can still be removed by its id.
        unknown = [r for r in refs if r.strip() not in by_id]
        if unknown:
            raise
        return [(by_id[r.strip()], _placeholder(by_id[r.strip()])) for r in refs]
    targets: dict[str, tuple[Entry, Document]] = {}
    for ref in refs:
        document = corpus.resolve_document(ref)
        if not document.is_added:
            raise CorpusError(
                f"{document.id} 《{document.title}》 is a bundled document (a file of {settings.corpus_dir}); "
                "only documents added to the library (policy-rag add) can be removed"
            )
        targets[document.id] = (by_id[document.id], document)
    return list(targets.values())


def _placeholder(entry: Entry) -> Document:
    return Document(entry.id, entry.id, True, None, None, None, None, None, Status.IN_FORCE, "simplified",
                    (entry.folder,))


def _commit(
    settings: Settings, library: Library, new_state: LibraryState, build_index: bool, progress: Progress | None,
    embedder: Any = None,
) -> IndexUpdate | None:
    """Commit new_state, with the index rebuilt for it first unless deferred (rag/library.py, steps 3-5)."""
    if not build_index:
        library.commit(new_state)
        return None
    from rag.embedding import load_embedder
    from rag.indexing import built_fingerprint, index_inputs, open_index

    started = time.perf_counter()
    corpus = load_corpus(settings.corpus_dir, library.sources(new_state))
    inputs = index_inputs(corpus, settings.corpus_dir)
    embedder = embedder if embedder is not None else load_embedder(settings, progress)
    pending = replace(
        new_state, index_root=settings.index_dir.relative_to(settings.data_dir).as_posix(), fingerprint=inputs.fingerprint
    )
    library.begin(pending)
    try:
        index = open_index(
            inputs, settings.index_dir, embedder, repair=True, progress=progress, dense_kind=settings.dense_index,
            tokenizer_cache_dir=settings.jieba_dir, defer_dense_min=ADD_EMBEDS_AT_MOST, milvus_uri=settings.milvus_uri,
        )
    except BaseException:
        if built_fingerprint(settings.index_dir) == inputs.fingerprint:
            library.commit(pending)
        else:
            library.abort()
        raise
    library.commit(pending)
    return IndexUpdate(len(corpus.clauses), len(index), time.perf_counter() - started, index.keyword_only)


def _record(prepared: Prepared) -> dict[str, Any]:
    """The metadata record of a new document (rag/library.py adds the stored names and text hash)."""
    import hashlib
    from datetime import UTC, datetime

    facts = prepared.facts
    return {
        "format": 1,
        "id": facts.id,
        "origin": "added",
        "file": prepared.file,
        "original_name": Path(prepared.shown).name,
        "sha256": hashlib.sha256(prepared.original).hexdigest(),
        "bytes": len(prepared.original),
        "text_format": prepared.text_format,
        "notes": list(prepared.notes),
        "added_at": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "title_derived": facts.title_derived,
        "script": facts.script,
        "fields": facts_record(facts),
        "counts": {
            "sections": prepared.counts.sections,
            "articles": prepared.counts.articles,
            "items": prepared.counts.items,
            "clauses": prepared.counts.clauses,
        },
    }
