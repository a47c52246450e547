"""Data in: the tracker wire format, enrichment, visitor ids, ingestion and import."""
