"""Aizen's shared Lambda layer: settings, auth, rate limits, errors and the store."""
