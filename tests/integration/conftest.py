"""Integration tier: real handlers and domain code against moto's in-process DynamoDB."""

from collections.abc import Iterator

import pytest

from aizen.models import ApiKey
from tests.support import FrozenClock, Owner, make_key, make_owner, moto_dynamodb


@pytest.fixture(autouse=True)
def dynamodb(request: pytest.FixtureRequest) -> Iterator[None]:
    """A fresh moto store per test; tests marked `shared_store` read their class's (tests.support.shared_site)."""
    if request.node.get_closest_marker("shared_store"):
        yield
        return
    with moto_dynamodb(as_shipped=request.node.get_closest_marker("moto_as_shipped") is not None):
        yield


@pytest.fixture
def owner(clock: FrozenClock) -> Owner:
    """user_1 with billing, owning site_1 (created eight days before the frozen "now"), signed in.

    A week-old site: a rollup run covers its last week, not the ~89 empty days of the raw window
    that a site created at the epoch would give it (~0.1 s of moto requests each).
    """
    return make_owner(site_created_at=int(clock.now()) - 8 * 86_400)


@pytest.fixture
def api_key(owner: Owner) -> tuple[ApiKey, str]:
    """A live stats:read key of the owner's site and its token."""
    return make_key(owner.site.id)
