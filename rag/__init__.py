"""Policy domain of PolicyQA: documents, clauses, retrieval over clauses and cited answers."""
