"""Logger, tracer and metrics: one instance of each, shared by every function.

The logger never receives the raw event: handlers log only what they choose, so
the Authorization header, cookies, client IPs and user agents never reach logs.
"""

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
tracer = Tracer()
metrics = Metrics()
