"""Reaching Milvus: a target (URI and index name), the connection, and which version collection is in use.

A file path ending in .db runs Milvus Lite in this process (one process may hold the file at a time);
an http(s), tcp, grpc or unix URI reaches a Milvus server or cluster. The version in use is named by an
alias on a server and by a pointer file beside a Milvus Lite database (Milvus Lite 2.5 answers
UNIMPLEMENTED to aliases), replaced atomically (index/atomic.py).
"""

from __future__ import annotations

import logging
import re
import sys
import threading
import types
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from index.atomic import atomic_write_text
from index.errors import IndexStateError
from index.manifest import REBUILD

SERVER_SCHEMES = ("http://", "https://", "tcp://", "grpc://", "unix:")
VERSION_MARK = "__v"
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,180}$")

logger = logging.getLogger(__name__)

def collection_name(text: str) -> str:
    """A valid Milvus name made from any text: letters, digits and underscores, starting with a letter."""
    name = re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_")
    return f"policyqa_{name}"[:120] if name else "policyqa"


@dataclass(frozen=True, slots=True)
class MilvusTarget:
    """Where an index lives in Milvus: the URI, and the index's name there."""

    uri: str
    name: str

    def __post_init__(self) -> None:
        if not self.is_server and not self.uri.endswith(".db"):
            raise IndexStateError(
                f"the Milvus URI {self.uri!r} is neither a Milvus Lite file (a path ending in .db) nor a server "
                "URL (http://host:19530); check --milvus-uri or POLICYQA_MILVUS_URI."
            )
        if not _NAME.match(self.name):
            raise ValueError(f"{self.name!r} is not a valid Milvus collection name; use collection_name().")

    @property
    def is_server(self) -> bool:
        return self.uri.startswith(SERVER_SCHEMES)

    @property
    def where(self) -> str:
        return f"{self.name} in Milvus at {self.uri}"

    @property
    def pointer(self) -> Path:
        return Path(f"{Path(self.uri).expanduser().absolute()}.pointers") / self.name


# Milvus Lite runs one server per database file per process; connections share it, the last closes it.
_lite_users: dict[str, int] = {}
_lite_lock = threading.Lock()


def connect(target: MilvusTarget) -> tuple[Any, Callable[[], None]]:
    """A MilvusClient for the target and the function that lets it go; IndexStateError when unreachable."""
    try:
        from pymilvus import MilvusClient
    except ImportError:
        raise IndexStateError(
            "--milvus-uri needs pymilvus and Milvus Lite; install them with `pip install -e .[scale]`."
        ) from None
    uri = target.uri if target.is_server else str(Path(target.uri).expanduser().absolute())
    if not target.is_server and not Path(uri).parent.is_dir():
        raise IndexStateError(f"the folder of the Milvus Lite file {uri} does not exist; create it or check --milvus-uri.")
    if not target.is_server:
        import_milvus_lite()
    with _lite_lock:
        try:
            client = MilvusClient(uri=uri, timeout=30)
        except Exception as error:  # pymilvus and grpc raise many types; all mean "cannot open"
            hint = (" Milvus Lite serves one process at a time: is another policy-rag using this file? "
                    "Use a Milvus server for several." if not target.is_server else "")
            raise IndexStateError(f"cannot open Milvus at {target.uri} ({short_error(error)}).{hint}") from error
        if not target.is_server:
            _lite_users[uri] = _lite_users.get(uri, 0) + 1

    def close() -> None:
        client.close()
        if target.is_server:
            return
        with _lite_lock:
            _lite_users[uri] -= 1
            if _lite_users[uri] == 0:
                del _lite_users[uri]
                from milvus_lite.server_manager import server_manager_instance

                server_manager_instance.release_server(uri)

    return client, close


def import_milvus_lite() -> None:
    """Import Milvus Lite 2.5, which reads its own version with pkg_resources at import. setuptools 81
    and later no longer ship that module (and with an older setuptools, jieba warns on every start),
    so a stand-in answering just that question is lent for the import and taken back at once."""
    if "milvus_lite.server_manager" in sys.modules:
        return
    try:
        import milvus_lite.server_manager
        return
    except ModuleNotFoundError as error:
        if error.name != "pkg_resources":
            raise IndexStateError(
                f"a Milvus Lite file needs milvus-lite ({error}); install it with `pip install -e .[scale]`."
            ) from None
    stand_in = types.ModuleType("pkg_resources")
    stand_in.DistributionNotFound = metadata.PackageNotFoundError  # type: ignore[attr-defined]
    stand_in.get_distribution = lambda name: types.SimpleNamespace(version=metadata.version(name))  # type: ignore[attr-defined]
    sys.modules["pkg_resources"] = stand_in
    try:
        for name in [n for n in sys.modules if n == "milvus_lite" or n.startswith("milvus_lite.")]:
            del sys.modules[name]
        import milvus_lite.server_manager  # noqa: F401
    finally:
        if sys.modules.get("pkg_resources") is stand_in:
            del sys.modules["pkg_resources"]


def milvus_errors() -> tuple[type[BaseException], ...]:
    """What pymilvus raises for an answer of the server: its own errors, and gRPC's (e.g. UNIMPLEMENTED)."""
    import grpc
    from pymilvus import MilvusException

    return (MilvusException, grpc.RpcError)


def short_error(error: BaseException) -> str:
    return " ".join(str(getattr(error, "message", None) or error).split())[:300]


def current_version(client: Any, target: MilvusTarget) -> str | None:
    """The version collection in use, or None when there is none yet."""
    if target.is_server:
        try:
            return str(client.describe_alias(target.name)["collection_name"])
        except milvus_errors():  # no such alias
            return None
    try:
        name = target.pointer.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as error:
        raise IndexStateError(f"the index pointer {target.pointer} is unreadable ({error}); {REBUILD}.") from error
    if not _NAME.match(name):
        raise IndexStateError(f"the index pointer {target.pointer} is damaged ({name[:40]!r}); {REBUILD}.")
    return name


def switch_version(client: Any, target: MilvusTarget, collection: str) -> None:
    if target.is_server:
        try:
            if current_version(client, target) is None:
                client.create_alias(collection, target.name)
            else:
                client.alter_alias(collection, target.name)
        except Exception as error:
            raise IndexStateError(
                f"Milvus at {target.uri} cannot point the alias {target.name} at the new version ({short_error(error)}); "
                "use a Milvus server or cluster (2.x) for an http URL, or a .db file for Milvus Lite."
            ) from error
        return
    target.pointer.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(target.pointer, collection + "\n")


def version_collections(client: Any, target: MilvusTarget) -> list[str]:
    prefix = target.name + VERSION_MARK
    return [name for name in client.list_collections() if name.startswith(prefix)]


def drop_versions(client: Any, target: MilvusTarget, keep: set[str]) -> None:
    for name in version_collections(client, target):
        if name not in keep:
            try:
                client.drop_collection(name)
            except milvus_errors() as error:  # a reader's server may refuse for a while; the next build retries
                logger.debug("could not drop %s: %s", name, error)
