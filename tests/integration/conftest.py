"""Integration tier: real handlers and domain code against moto's in-process DynamoDB."""

from collections.abc import Iterator

import pytest
from moto import mock_aws

from aizen.models import ApiKey
from aizen.settings import get_settings
from aizen.store.dynamo import reset_connections
from tests.support import FrozenClock, Owner, create_tables_from_template, make_key, make_owner


@pytest.fixture(autouse=True)
def dynamodb() -> Iterator[None]:
    get_settings.cache_clear()
    reset_connections()
    with mock_aws():
        create_tables_from_template()
        yield
    reset_connections()


@pytest.fixture
def owner(clock: FrozenClock) -> Owner:
    """user_1 with billing, owning site_1, signed in (session started at the frozen "now")."""
    return make_owner()


@pytest.fixture
def api_key(owner: Owner) -> tuple[ApiKey, str]:
    """A live stats:read key of the owner's site and its token."""
    return make_key(owner.site.id)
