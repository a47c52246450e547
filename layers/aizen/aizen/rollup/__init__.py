"""The scheduled rollup job (docs/rollups.md)."""
