"""manifest.json: what an index version folder holds, how it was built, and the checksum of every data file."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from index.atomic import atomic_write_text
from index.errors import IndexStateError

FORMAT = "hybrid-search-index"
FORMAT_VERSION = 1
"""Bump when the folder layout or a file format changes; older folders then ask for a rebuild."""

MANIFEST_NAME = "manifest.json"
KEYWORD_ONLY = "none"
"""The dense_kind of a version without vectors yet: keyword search only."""
REBUILD = "run `policy-rag index --rebuild`"


def sha256_file(path: str | os.PathLike[str]) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class Manifest:
    """The self-description of one index version.

    tokenizer is TokenizerConfig.summary(); files maps each data file (relative, '/'-separated) to its sha256.
    dense_kind is "flat", "ivf" or "hnsw", or KEYWORD_ONLY for a version published before its vectors
    were made (BM25 only); dense_params says what was asked ("setting") and how the approximate index
    was tuned (nlist, nprobe or ef_search, the recall@10 it measured).
    """

    model_id: str
    dimension: int
    corpus_hash: str
    count: int
    dense_kind: str
    tokenizer: Mapping[str, Any]
    files: Mapping[str, str]
    libraries: Mapping[str, str] = field(default_factory=dict)
    built_at: str = field(default_factory=utc_now)
    build_id: str = ""
    annotations: Mapping[str, Any] = field(default_factory=dict)
    dense_params: Mapping[str, Any] = field(default_factory=dict)
    """What the caller keeps with this version (the policy layer: its calibrated thresholds)."""
    format: str = FORMAT
    format_version: int = FORMAT_VERSION

    def __post_init__(self) -> None:
        if not self.model_id:
            raise ValueError("a manifest needs the model id the vectors were made with.")
        if self.dimension < 0 or (self.dimension == 0) != (self.dense_kind == KEYWORD_ONLY) or self.count < 0:
            raise ValueError(
                f"a manifest needs a count and a positive dimension (0 only without vectors); got {self.dimension}, "
                f"{self.count} for dense kind {self.dense_kind!r}."
            )
        for name in self.files:
            if Path(name).is_absolute() or ".." in Path(name).parts:
                raise ValueError(f"manifest file names must be relative paths inside the folder; got {name!r}.")
        if not isinstance(self.tokenizer, Mapping) or "fingerprint" not in self.tokenizer:
            raise ValueError("a manifest needs the tokenizer settings with their fingerprint.")
        object.__setattr__(self, "files", dict(sorted(self.files.items())))
        object.__setattr__(self, "libraries", dict(sorted(self.libraries.items())))

    def to_json(self) -> str:
        data = asdict(self)
        head = {"format": data.pop("format"), "format_version": data.pop("format_version")}
        return json.dumps(head | data, ensure_ascii=False, indent=2) + "\n"

    def write(self, folder: str | os.PathLike[str]) -> None:
        atomic_write_text(Path(folder) / MANIFEST_NAME, self.to_json())

    @property
    def keyword_only(self) -> bool:
        return self.dense_kind == KEYWORD_ONLY

    @property
    def dense_setting(self) -> str:
        """What the build was asked for ("auto", or a kind); older manifests recorded only the kind."""
        return str(self.dense_params.get("setting", self.dense_kind))

    def serves(self, setting: str) -> bool:
        """Whether this build is what `setting` asks for: the same setting, or the kind "auto" means
        for its size (an index built "flat" before "auto" was the default still serves it)."""
        from index.dense import resolve_kind

        return self.dense_setting == setting or (setting == "auto" and self.dense_kind == resolve_kind(setting, self.count))

    @classmethod
    def read(cls, folder: str | os.PathLike[str]) -> Manifest:
        """The manifest of a version folder; IndexStateError if it is missing, unreadable or of another format."""
        path = Path(folder) / MANIFEST_NAME
        try:
            data: Any = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise IndexStateError(
                f"the index folder {folder} has no {MANIFEST_NAME}; it is incomplete, {REBUILD}."
            ) from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise IndexStateError(f"the index manifest {path} is unreadable ({error}); {REBUILD}.") from error
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise IndexStateError(f"{path} is not a manifest of this search index; {REBUILD}.")
        if data.get("format_version") != FORMAT_VERSION:
            raise IndexStateError(
                f"the index at {folder} has format version {data.get('format_version')!r} and this program "
                f"reads version {FORMAT_VERSION}; {REBUILD}."
            )
        try:
            return cls(**data)
        except (TypeError, ValueError) as error:
            raise IndexStateError(f"the index manifest {path} is damaged ({error}); {REBUILD}.") from error

    def verify_files(self, folder: str | os.PathLike[str], names: list[str] | None = None) -> None:
        """Check the sha256 of each listed data file (all by default); IndexStateError names the first bad one."""
        for name in self.files if names is None else names:
            path = Path(folder) / name
            if name not in self.files:
                raise IndexStateError(f"the index manifest in {folder} does not list {name}; {REBUILD}.")
            try:
                actual = sha256_file(path)
            except FileNotFoundError:
                raise IndexStateError(f"the index file {path} is missing; {REBUILD}.") from None
            except OSError as error:
                raise IndexStateError(f"the index file {path} is unreadable ({error}); {REBUILD}.") from error
            if actual != self.files[name]:
                raise IndexStateError(
                    f"the index file {path} is damaged or truncated (its checksum does not match the manifest); "
                    f"{REBUILD}."
                )
