"""Test environment shared by every tier: a deterministic, offline AWS setup."""

import os

# Set before any aizen module reads its settings. Unit and integration tests run
# against moto in-process; e2e tests start their own local stack.
os.environ.update(
    {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AIZEN_MAIN_TABLE": "test-main",
        "AIZEN_EVENTS_TABLE": "test-events",
        "AIZEN_DASHBOARD_ORIGINS": "https://dashboard.test",
        "POWERTOOLS_SERVICE_NAME": "aizen",
        "POWERTOOLS_METRICS_NAMESPACE": "Aizen",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_DEV": "false",
    }
)
os.environ.pop("AWS_ENDPOINT_URL_DYNAMODB", None)
os.environ.pop("AWS_PROFILE", None)
