"""The billing gate: the stats routes' keys and goal management need a site owner whose plan
includes API access (`billing_active`; docs/api.md, Authentication and Goals)."""

from aizen.errors import Forbidden
from aizen.models import Site
from aizen.store import accounts


def require_api_access(site: Site, refusal: str) -> None:
    """403 `refusal` unless the site's owner has API access (one GetItem of the owner's item)."""
    owner = accounts.get_user(site.owner_user_id)
    if owner is None or not owner.billing_active:
        raise Forbidden(refusal)
