"""The seller's catalog: loading, validation, facts and retrieval."""
