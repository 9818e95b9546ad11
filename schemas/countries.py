"""Countries (ISO 3166-1 alpha-3 with UN M49 regions) and a resolver for free-text country names.

The published GLOTIP export names the other country of a flow (citizenship, country of
repatriation) in free text: English, Spanish and French names, demonyms, upper case, mojibake,
"Nationals", "Unknown", "Abroad". `resolve_country` maps such a text to an ISO3 code or says
why it cannot, and never guesses: a text that could mean two countries stays unresolved.

Reference data (see reference/SOURCES.md): reference/countries.csv (one row per ISO 3166-1
country/area) and reference/country_aliases.csv (curated texts the names tables miss).
"""

from __future__ import annotations

import gettext
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pandas as pd
import pycountry

__all__ = [
    "CountryResolution", "COUNTRY_CODES", "country_codes", "load_countries", "load_aliases",
    "normalise_name", "resolve_country", "resolve_many", "country_name",
]

REFERENCE_DIR = Path(__file__).with_name("reference")
COUNTRIES_CSV = REFERENCE_DIR / "countries.csv"
ALIASES_CSV = REFERENCE_DIR / "country_aliases.csv"

# Languages whose pycountry (Debian iso-codes) translations are matched: the questionnaires
# come back in English, French and Spanish; Italian and Portuguese names also occur.
TRANSLATION_LANGUAGES = ("fr", "es", "it", "pt")

# Texts that name no country but a relation to the detecting country (normalised form).
KEYWORD_KINDS = {
    # the detecting country itself
    "nationals": "nationals", "national": "nationals", "own nationals": "nationals",
    "nationaux": "nationals", "nacionales": "nationals", "nacional": "nationals",
    "own country": "nationals", "domestic": "nationals",
    "ciudadanos de su pais": "nationals", "ressortissants nationaux": "nationals",
    # citizenship not known
    "unknown": "unknown", "inconnu": "unknown", "inconnue": "unknown", "inconnus": "unknown",
    "desconocido": "unknown", "desconocida": "unknown", "desconocidos": "unknown",
    "desconocidas": "unknown", "no determinado": "unknown", "no determinada": "unknown",
    "no determinados": "unknown", "no determinadas": "unknown", "sin determinar": "unknown",
    "no registra": "unknown", "no information": "unknown", "not known": "unknown",
    "not stated": "unknown", "nationality not stated": "unknown", "non determine": "unknown",
    # another country, not named ("Abroad" in repatriation; "foreigners" in citizenship)
    "abroad": "abroad", "foreigners": "abroad", "foreign": "abroad", "etranger": "abroad",
    "a l etranger": "abroad", "etrangers": "abroad", "extranjero": "abroad",
    "extranjeros": "abroad", "en el extranjero": "abroad",
    "personnes de nationalite etrangere": "abroad",
}


@dataclass(frozen=True)
class CountryResolution:
    """How one text resolved. kind is "country", "nationals", "unknown", "abroad", "unresolved"
    or "empty"; iso3 is set for "country" and for "nationals" when the detecting country is
    known; method says which rule matched."""

    kind: str
    iso3: str | None
    text: str
    method: str


@dataclass(frozen=True)
class _Match:
    kind: str
    iso3: str | None
    method: str


# ---------------------------------------------------------------- reference tables

@cache
def _countries() -> pd.DataFrame:
    # keep_default_na=False: Namibia's iso2 is "NA"; empty regions stay "".
    return pd.read_csv(COUNTRIES_CSV, dtype=str, keep_default_na=False)


def load_countries() -> pd.DataFrame:
    """One row per ISO 3166-1 country/area (249): iso3, iso2, m49_code, names, M49 and GLOTIP
    regions. Read once; each call returns a copy so callers cannot alter the cache."""
    return _countries().copy()


@cache
def _aliases() -> pd.DataFrame:
    return pd.read_csv(ALIASES_CSV, dtype=str, keep_default_na=False)


def load_aliases() -> pd.DataFrame:
    """Curated alias texts: alias, iso3 (empty = deliberately unresolved), note. A copy."""
    return _aliases().copy()


@cache
def country_codes() -> frozenset[str]:
    """The ISO 3166-1 alpha-3 codes of countries.csv."""
    return frozenset(_countries()["iso3"])


@cache
def country_name(iso3: str, language: str = "en") -> str:
    """A country's name in one of the six languages, as a report shows it: English from
    countries.csv (the UN M49 names), the others from CLDR (Babel). An unknown code is returned
    as it is."""
    rows = _countries()
    match = rows[rows["iso3"] == iso3]
    if match.empty:
        return iso3
    row = match.iloc[0]
    if language != "en":
        from babel import Locale  # CLDR data, loaded only when a language needs it

        name = Locale.parse(language).territories.get(row["iso2"])
        if name:
            return name
    return row["name"]


def __getattr__(name: str):
    # COUNTRY_CODES is computed on first use so importing this module reads no file.
    if name == "COUNTRY_CODES":
        return country_codes()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# ---------------------------------------------------------------- normalisation

_NOT_WORD = re.compile(r"[^\w\ufffd]+|_")  # keep U+FFFD: it is the wildcard for mojibake
_TOKEN_REWRITES = {"st": "saint"}


def normalise_name(text: str) -> str:
    """Matching key: case-folded, accents and punctuation (incl. curly or straight apostrophes)
    removed, "&" read as "and", "St" as "Saint", a leading "the" dropped, spaces collapsed.
    U+FFFD replacement characters are kept (resolve_country uses them as wildcards)."""
    decomposed = unicodedata.normalize("NFKD", str(text))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    words = _NOT_WORD.sub(" ", stripped.casefold().replace("&", " and ")).split()
    words = [_TOKEN_REWRITES.get(word, word) for word in words]
    if len(words) > 1 and words[0] == "the":
        words = words[1:]
    return " ".join(words)


def _name_variants(name: str) -> list[str]:
    """Short forms of ISO-style names: "Korea, Republic of" -> "Republic of Korea", "Korea";
    "Holy See (Vatican City State)" -> "Holy See". Only used where they stay unambiguous."""
    variants = []
    if "(" in name:
        variants.append(name.split("(")[0])
    if ", " in name:
        head, tail = name.split(", ", 1)
        variants += [f"{tail} {head}", head]
    return variants


# ---------------------------------------------------------------- the index

def _english_names(row) -> list[str]:
    country = pycountry.countries.get(alpha_3=row.iso3)
    names = [row.name, row.official_name, row.name_glotip]
    names += [getattr(country, field, "") for field in ("name", "official_name", "common_name")]
    return [n for n in names if n]


def _pycountry_names(iso3: str) -> list[str]:
    country = pycountry.countries.get(alpha_3=iso3)
    fields = ("name", "official_name", "common_name")
    return [getattr(country, field) for field in fields if hasattr(country, field)]


class _Tier:
    """Keys of one matching tier. A key naming two countries within a tier is ambiguous."""

    def __init__(self):
        self.targets: dict[str, dict[str, str]] = {}  # key -> {iso3: method}

    def add(self, text: str, iso3: str, method: str) -> None:
        key = normalise_name(text)
        if key:
            self.targets.setdefault(key, {}).setdefault(iso3, method)


@cache
def _index() -> dict[str, _Match]:
    """Normalised key -> match. Earlier tiers win: keywords, curated aliases, English names,
    translated names, then short forms of both. A key that names two countries in a tier is
    recorded as ambiguous, and no later tier may claim it (a later tier cannot know better).
    All translation languages share one tier so that no language silently wins over another."""
    index: dict[str, _Match] = {
        key: _Match(kind, None, "keyword") for key, kind in KEYWORD_KINDS.items()
    }
    for alias in _aliases().itertuples(index=False):
        key = normalise_name(alias.alias)
        if key and key not in index:
            iso3 = alias.iso3 or None
            index[key] = _Match("country" if iso3 else "unresolved", iso3, "alias")

    english, translated, english_short, translated_short = _Tier(), _Tier(), _Tier(), _Tier()
    catalogues = {
        lang: gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[lang])
        for lang in TRANSLATION_LANGUAGES
    }
    for row in _countries().itertuples(index=False):
        for name in _english_names(row):
            english.add(name, row.iso3, "name")
            for variant in _name_variants(name):
                english_short.add(variant, row.iso3, "name")
        for name in _pycountry_names(row.iso3):
            for lang, catalogue in catalogues.items():
                local = catalogue.gettext(name)
                if local != name:
                    translated.add(local, row.iso3, f"translation:{lang}")
                    for variant in _name_variants(local):
                        translated_short.add(variant, row.iso3, f"translation:{lang}")

    for tier in (english, translated, english_short, translated_short):
        for key, methods in tier.targets.items():
            if key in index:
                continue
            if len(methods) == 1:
                [(iso3, method)] = methods.items()
                index[key] = _Match("country", iso3, method)
            else:
                index[key] = _Match("unresolved", None, "ambiguous")
    return index


@cache
def _iso2_to_iso3() -> dict[str, str]:
    return dict(zip(_countries()["iso2"], _countries()["iso3"]))


# ---------------------------------------------------------------- resolution

def _lookup(text: str) -> _Match | None:
    """Codes, then the name index; None when nothing matches."""
    code = text.strip().upper()
    if code.isascii() and code.isalpha():
        if len(code) == 3 and code in country_codes():
            return _Match("country", code, "iso3")
        if len(code) == 2 and code in _iso2_to_iso3():
            return _Match("country", _iso2_to_iso3()[code], "iso2")
    return _index().get(normalise_name(text))


def _repair_mojibake(text: str) -> list[str]:
    """UTF-8 bytes that were decoded as cp1252/latin-1 ("CÃ´te" -> "Côte")."""
    repaired = []
    for encoding in ("cp1252", "latin-1"):
        try:
            fixed = text.encode(encoding).decode("utf-8")
        except UnicodeError:
            continue
        if fixed != text and fixed not in repaired:
            repaired.append(fixed)
    return repaired


def _wildcard(text: str) -> _Match | None:
    """U+FFFD stands for one lost character: match it against every known key and accept
    the result only if all matching keys agree on one target."""
    key = normalise_name(text)
    pattern = re.compile(".".join(re.escape(part) for part in key.split("\ufffd")))
    # Only real targets count: a key known to be ambiguous or deliberately unresolved
    # ("PERO") must not make "PER" + U+FFFD (PERÚ) ambiguous.
    targets = {
        (match.kind, match.iso3) for known, match in _index().items()
        if match.kind != "unresolved" and pattern.fullmatch(known)
    }
    if len(targets) != 1:
        return None
    kind, iso3 = targets.pop()
    return _Match(kind, iso3, "wildcard")


@cache
def _resolve_text(text: str) -> _Match:
    if not text.strip():
        return _Match("empty", None, "empty")
    match = _lookup(text)
    if match is None:
        for fixed in _repair_mojibake(text):
            repaired = _lookup(fixed)
            if repaired is not None:
                match = _Match(repaired.kind, repaired.iso3, "mojibake")
                break
    if match is None and "\ufffd" in text:
        match = _wildcard(text)
    return match or _Match("unresolved", None, "none")


def _is_missing(text) -> bool:
    return text is None or (not isinstance(text, str) and pd.isna(text))


def resolve_country(
    text: str | None, *, detecting_country: str | None = None
) -> CountryResolution:
    """Resolve one free-text country name.

    kind: "country" (iso3 set), "nationals" (iso3 = detecting_country, None if not given),
    "unknown", "abroad" (another country, not named), "unresolved" (method "ambiguous",
    "alias" for texts deliberately left unresolved, or "none"), "empty" (None/NaN/blank).
    """
    if _is_missing(text):
        return CountryResolution("empty", None, "", "empty")
    text = str(text)
    match = _resolve_text(text)
    iso3 = match.iso3
    if match.kind == "nationals":
        missing = _is_missing(detecting_country)
        detecting = "" if missing else str(detecting_country).strip().upper()
        iso3 = detecting if detecting in country_codes() else None
    return CountryResolution(match.kind, iso3, text, match.method)


def resolve_many(
    texts: Iterable[str | None],
    detecting_country: str | Iterable[str | None] | None = None,
) -> pd.DataFrame:
    """Resolve many texts at once (each distinct text is resolved once).

    detecting_country: one code for all texts, or one per text (e.g. the Iso3_code column).
    Returns a DataFrame with columns text, kind, iso3, method, indexed like `texts` when it
    is a Series.
    """
    series = texts if isinstance(texts, pd.Series) else pd.Series(list(texts), dtype=object)
    text = series.astype(object).where(series.notna(), None)
    distinct = pd.unique(text.dropna())
    results = {t: _resolve_text(str(t)) for t in distinct}
    empty = _Match("empty", None, "empty")
    matched = [results[t] if t is not None else empty for t in text]

    frame = pd.DataFrame({
        "text": text.fillna("").astype(str).to_numpy(),
        "kind": [m.kind for m in matched],
        "iso3": [m.iso3 for m in matched],
        "method": [m.method for m in matched],
    }, index=series.index)

    nationals = frame["kind"] == "nationals"
    if nationals.any():
        if detecting_country is None or isinstance(detecting_country, str):
            detecting = pd.Series(detecting_country, index=series.index, dtype=object)
        else:
            detecting = pd.Series(list(detecting_country), index=series.index, dtype=object)
        detecting = detecting.fillna("").astype(str).str.strip().str.upper()
        valid = detecting.isin(country_codes())
        frame.loc[nationals, "iso3"] = detecting.where(valid, None)[nationals]
    frame["iso3"] = frame["iso3"].astype(object).where(frame["iso3"].notna(), None)
    return frame
