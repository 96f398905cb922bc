"""A generic hybrid (dense + BM25) search engine over (id, text) pairs; knows nothing about policies."""
