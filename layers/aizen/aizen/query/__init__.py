"""The stats query engine: counting rules (engine), sources, parameters and the service."""
