"""The scheduled rollup job (DESIGN.md §4)."""
