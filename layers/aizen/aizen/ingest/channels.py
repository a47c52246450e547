"""GA4 default channel grouping from the referrer and the landing URL's utm_* parameters.

The rules follow "[GA4] Default channel group" (https://support.google.com/analytics/answer/9756891),
evaluated in GA4's order; the source categories are in aizen.ingest.ga4_sources. Without
utm_* parameters the source and medium are derived as GA4 does: a referrer on a known
search engine is `organic`, any other referrer `referral`, no referrer `(direct)`/`(none)`.
"""

import re
from dataclasses import dataclass

from aizen.ingest import ga4_sources

_PAID_MEDIUM = re.compile(r"^(.*cp.*|ppc|retargeting|paid.*)$")
_SHOPPING_CAMPAIGN = re.compile(r"^(.*(([^a-df-z]|^)shop|shopping).*)$")
_DISPLAY_MEDIA = frozenset({"display", "banner", "expandable", "interstitial", "cpm"})
_SOCIAL_MEDIA = frozenset({"social", "social-network", "social-media", "sm", "social network", "social media"})
_EMAIL = frozenset({"email", "e-mail", "e_mail", "e mail"})


@dataclass(frozen=True, slots=True)
class Attribution:
    """What the channel rules look at: lower-cased source, medium and campaign."""

    source: str  # utm_source, else the referrer host, else "(direct)"
    medium: str  # utm_medium, else organic / referral / (none)
    campaign: str  # utm_campaign or ""


def _candidates(source: str) -> set[str]:
    """The source, each parent domain of it, and each of its labels (google.co.uk → google)."""
    found = {source}
    labels = source.split(".")
    found.update(".".join(labels[index:]) for index in range(1, len(labels) - 1))
    found.update(label for label in labels if label)
    return found


def _in(category: frozenset[str], source: str) -> bool:
    return not category.isdisjoint(_candidates(source))


def attribution(referrer_host: str | None, utm: dict[str, str]) -> Attribution:
    source = utm.get("utm_source", "").strip().lower()
    medium = utm.get("utm_medium", "").strip().lower()
    campaign = utm.get("utm_campaign", "").strip().lower()
    if not source:
        source = referrer_host or "(direct)"
    if not medium:
        if "utm_source" in utm:
            medium = "(not set)"
        elif referrer_host is None:
            medium = "(none)"
        else:
            medium = "organic" if _in(ga4_sources.SEARCH, referrer_host) else "referral"
    return Attribution(source, medium, campaign)


def channel(found: Attribution) -> str:  # one branch per GA4 rule, in order
    source, medium, campaign = found.source, found.medium, found.campaign
    paid = bool(_PAID_MEDIUM.match(medium))
    shopping = _in(ga4_sources.SHOPPING, source) or bool(_SHOPPING_CAMPAIGN.match(campaign))
    if source == "(direct)" and medium in ("(not set)", "(none)"):
        return "Direct"
    if "cross-network" in campaign:
        return "Cross-network"
    if paid and shopping:
        return "Paid Shopping"
    if paid and _in(ga4_sources.SEARCH, source):
        return "Paid Search"
    if paid and _in(ga4_sources.SOCIAL, source):
        return "Paid Social"
    if paid and _in(ga4_sources.VIDEO, source):
        return "Paid Video"
    if medium in _DISPLAY_MEDIA:
        return "Display"
    if paid:
        return "Paid Other"
    if shopping:
        return "Organic Shopping"
    if _in(ga4_sources.SOCIAL, source) or medium in _SOCIAL_MEDIA:
        return "Organic Social"
    if _in(ga4_sources.VIDEO, source) or "video" in medium:
        return "Organic Video"
    if _in(ga4_sources.SEARCH, source) or medium == "organic":
        return "Organic Search"
    if medium in ("referral", "app", "link"):
        return "Referral"
    if source in _EMAIL or medium in _EMAIL:
        return "Email"
    if medium == "affiliate":
        return "Affiliates"
    if medium == "audio":
        return "Audio"
    if source == "sms" or medium == "sms":
        return "SMS"
    if medium.endswith("push") or "mobile" in medium or "notification" in medium or source == "firebase":
        return "Mobile Push Notifications"
    return "Unassigned"


def channel_for(referrer_host: str | None, utm: dict[str, str]) -> str:
    return channel(attribution(referrer_host, utm))
