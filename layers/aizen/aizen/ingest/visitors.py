"""Visitor ids (docs/ingestion.md, Visitor ids): hash(daily salt, site, IP, user agent); no IP or user agent is kept.

A salt is random, per site and site-local date, created on first use by a conditional put
(the first writer wins, every other reader gets the winner's salt), cached in the process,
and TTL'd `salt_ttl_days` after its date ends, so yesterday's ids cannot be recomputed later.
"""

import hashlib
import os
import threading
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from aizen.settings import get_settings
from aizen.store import salts

_cache: dict[tuple[str, str], bytes] = {}
_lock = threading.Lock()


def local_date(timestamp_ms: int, timezone: str) -> date:
    return datetime.fromtimestamp(timestamp_ms / 1000, ZoneInfo(timezone)).date()


def _expiry(day: date, timezone: str) -> int:
    end = datetime.combine(day + timedelta(days=1), time(), ZoneInfo(timezone))
    return int(end.timestamp()) + get_settings().salt_ttl_days * 86400


def salt_for(site_id: str, day: date, timezone: str) -> bytes:
    key = (site_id, day.isoformat())
    cached = _cache.get(key)
    if cached is not None:
        return cached
    salt = salts.get_salt(site_id, key[1])
    if salt is None:
        fresh = os.urandom(16)
        salt = fresh if salts.put_salt_if_absent(site_id, key[1], fresh, _expiry(day, timezone)) else None
        if salt is None:  # another writer created it first: use theirs
            salt = salts.get_salt(site_id, key[1])
            if salt is None:  # pragma: no cover - a winner's salt is always readable (consistent read)
                raise RuntimeError("visitor salt vanished")
    with _lock:
        if len(_cache) > 4096:
            _cache.clear()
        _cache[key] = salt
    return salt


def visitor_id(salt: bytes, site_id: str, ip: str, user_agent: str) -> str:
    """16 hex characters; the same inputs give the same id, a new salt a new one."""
    digest = hashlib.blake2b(f"{site_id}\0{ip}\0{user_agent}".encode(), key=salt, digest_size=8)
    return digest.hexdigest()


def visitor_for(site_id: str, timezone: str, timestamp_ms: int, ip: str, user_agent: str) -> str:
    return visitor_id(salt_for(site_id, local_date(timestamp_ms, timezone), timezone), site_id, ip, user_agent)


# A salt scope that is never a site id (those are `site_…`): the salts of ingestion's rate counter.
RATE_LIMIT_SCOPE = "ratelimit"


def address_key(ip: str, timestamp_ms: int) -> str:
    """The client address as ingestion's per-IP rate counter names it: 32 hex characters keyed by
    a salt of the UTC date (scope `ratelimit`), so no visitor's IP is stored, not even in a
    counter. Salts change at UTC midnight, a window boundary, so no window spans two of them."""
    salt = salt_for(RATE_LIMIT_SCOPE, local_date(timestamp_ms, "UTC"), "UTC")
    return hashlib.blake2b(ip.encode(), key=salt, digest_size=16).hexdigest()


def imported_visitor_id(site_id: str, supplied: str) -> str:
    """An import's own visitor_id, made into the stored 16-hex form (deterministic per site)."""
    return hashlib.blake2b(f"import\0{site_id}\0{supplied}".encode(), digest_size=8).hexdigest()


def reset_cache() -> None:
    """Forget cached salts (tests that switch stores call this)."""
    with _lock:
        _cache.clear()
