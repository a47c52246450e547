"""`aizen import`, one use case: `lines` (each NDJSON line checked and enriched), `history`
(events older than the raw window added to their days' rollups), `service` (the whole
import: validate every line, then write raw events and history, with progress)."""
