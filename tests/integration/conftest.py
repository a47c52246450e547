"""Integration tier: real handlers and domain code against moto's in-process DynamoDB."""

from collections.abc import Iterator

import pytest
from moto import mock_aws

from aizen.settings import get_settings
from aizen.store.dynamo import reset_connections
from tests.support import create_tables_from_template


@pytest.fixture(autouse=True)
def dynamodb() -> Iterator[None]:
    get_settings.cache_clear()
    reset_connections()
    with mock_aws():
        create_tables_from_template()
        yield
    reset_connections()
