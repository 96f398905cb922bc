"""Errors of the search engine, written for the person who reads them: what, the value, what to do."""


class SearchEngineError(Exception):
    """Base class for every error raised by index/."""


class IndexStateError(SearchEngineError):
    """An index folder is missing, stale, corrupted or was built with other settings."""


class ModelError(SearchEngineError):
    """The embedding model cannot be found, built or loaded."""
