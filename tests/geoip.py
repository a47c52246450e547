"""A small MaxMind-format City database for tests, written with `mmdb-writer`."""

from pathlib import Path

from mmdb_writer import MMDBWriter
from netaddr import IPSet

# Networks the tests (and the e2e stack) locate: loopback addresses included, since the
# local stack's clients connect from 127.0.x.y.
CITIES = {
    "127.0.0.0/8": ("US", "CA", "San Francisco"),
    "198.51.100.0/24": ("DE", "BE", "Berlin"),
    "203.0.113.0/24": ("GB", "ENG", "London"),
    "2001:db8::/32": ("FR", "IDF", "Paris"),
}


def write_city_database(path: Path) -> Path:
    writer = MMDBWriter(ip_version=6, ipv4_compatible=True, database_type="GeoLite2-City", languages=["en"])
    for network, (country, region, city) in CITIES.items():
        writer.insert_network(
            IPSet([network]),
            {
                "country": {"iso_code": country, "names": {"en": country}},
                "subdivisions": [{"iso_code": region, "names": {"en": region}}],
                "city": {"names": {"en": city}},
            },
        )
    writer.to_db_file(str(path))
    return path
