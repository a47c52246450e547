"""The session-filter mask of the engine (aizen.query.engine._attribute_mask), on both of its paths."""

import pytest

from aizen.columns import EventBlock
from aizen.events import NONE_VALUE, RawEvent
from aizen.query.engine import _attribute_mask
from aizen.store import block_codec
from aizen.vocabulary import Filters

HOUR = 1_775_156_400_000


def _events(regions: int) -> list[RawEvent]:
    return [
        RawEvent(
            "site_1",
            HOUR + index,
            "pageview",
            f"{index % 97:016x}",
            "/",
            region=None if index % 5 == 0 else f"r-{index % regions}",
            device="mobile" if index % 3 else "desktop",
        )
        for index in range(1_000)
    ]


@pytest.mark.parametrize("regions", [7, 400])  # one byte a code (bytes.translate), and more than 256 values
@pytest.mark.parametrize("region", ["r-3", NONE_VALUE, "r-9999"])
def test_the_mask_marks_exactly_the_events_whose_attributes_match_every_filter(regions: int, region: str) -> None:
    # Given: a block as the store decodes it
    block = block_codec.decode(block_codec.encode(EventBlock.of_events(_events(regions)), HOUR))
    mask_of = _attribute_mask(Filters(region=region, device="mobile"))
    assert mask_of is not None

    # When
    mask = mask_of(block)

    # Then
    expected = [
        int((event.region or NONE_VALUE) == region and event.device == "mobile") for event in block.events("site_1")
    ]
    assert list(mask) == expected


def test_no_session_filter_means_no_mask() -> None:
    assert _attribute_mask(Filters(page="/")) is None
