"""Data in: the tracker wire format, enrichment, visitor ids, and ingestion (the import: aizen.importing)."""
