"""Aizen's local stack and operator command line (dev-only; not in the layer)."""
