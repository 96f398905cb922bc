"""Errors of the policy layer, written for the person who reads them: what, the value, what to do.

Errors from index/ (SearchEngineError and subclasses) are shown the same way by the CLI and UI.
"""

from index.errors import IndexStateError, ModelError, SearchEngineError


class PolicyQAError(Exception):
    """Base class; the CLI prints it as one line and exits non-zero, the UI shows it as a message."""


class CorpusError(PolicyQAError):
    """A corpus file is missing, unreadable or does not parse."""


class DecodeError(CorpusError):
    """A file's bytes are not text in any supported encoding."""


class DocumentRejected(CorpusError):
    """A file a user brings cannot be turned into text (unsupported, binary, empty, scanned, encrypted,
    too large or damaged); the message names the file and what to do."""


class QuestionError(PolicyQAError):
    """The question cannot be handled as asked (empty, too long, unreadable)."""


class UnknownReferenceError(PolicyQAError):
    """A clause or document reference (id or label) names nothing in the corpus."""


USER_FACING_ERRORS = (PolicyQAError, SearchEngineError)

__all__ = [
    "USER_FACING_ERRORS",
    "CorpusError",
    "DecodeError",
    "DocumentRejected",
    "IndexStateError",
    "ModelError",
    "PolicyQAError",
    "QuestionError",
    "SearchEngineError",
    "UnknownReferenceError",
]
