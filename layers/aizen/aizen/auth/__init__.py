"""Bearer tokens, dashboard sessions, key management and the billing gate."""
