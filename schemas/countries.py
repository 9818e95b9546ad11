"""Countries (ISO 3166-1 alpha-3 with UN M49 regions) and a resolver for free-text country names.

The published GLOTIP export names the other country of a flow (citizenship, country of
repatriation) in free text: English, Spanish and French names, demonyms, upper case, mojibake,
"Nationals", "Unknown", "Abroad"; a translated template comes back with names in its own
language and script (مصر, 埃及, Египет). `resolve_country` maps such a text to an ISO3 code or
says why it cannot, and never guesses: a text that could mean two countries stays unresolved,
with the candidates it could mean. Texts that no name matches exactly go on to demonyms (en, es,
fr, with regular inflections), loose names (abbreviations written out, word order, articles)
and fuzzy matching with a safety margin; these come last, so they change no earlier result.

Reference data (see reference/SOURCES.md): reference/countries.csv (one row per ISO 3166-1
country/area), reference/country_aliases.csv (curated texts the names tables miss),
reference/country_names_cldr_alt.csv (CLDR's short and variant names, which Babel does not
ship), reference/country_demonyms.csv (demonyms: neither CLDR nor pycountry has them); at run
time also CLDR's territory names (Babel) and pycountry's translations.
"""

from __future__ import annotations

import gettext
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pandas as pd
import pycountry

__all__ = [
    "CountryResolution", "COUNTRY_CODES", "country_codes", "load_countries", "load_aliases",
    "normalise_name", "resolve_country", "resolve_many", "country_name", "ambiguity",
    "demonym_forms", "loose_key", "edit_distance",
]

REFERENCE_DIR = Path(__file__).with_name("reference")
COUNTRIES_CSV = REFERENCE_DIR / "countries.csv"
ALIASES_CSV = REFERENCE_DIR / "country_aliases.csv"

# Languages whose pycountry (Debian iso-codes) translations are matched: the questionnaires
# come back in English, French and Spanish; Italian and Portuguese names also occur.
TRANSLATION_LANGUAGES = ("fr", "es", "it", "pt")
CLDR_ALT_CSV = REFERENCE_DIR / "country_names_cldr_alt.csv"
# The six UN languages, matched in tiers after the ones above so that they cannot change what
# an existing name resolves to: CLDR territory names (Chinese in simplified and traditional
# characters) and pycountry's translations into the UN languages it ships (Chinese as used in
# mainland China, Taiwan and Hong Kong).
CLDR_LOCALES = ("ar", "zh", "zh_Hant", "en", "fr", "ru", "es")
UN_TRANSLATION_LANGUAGES = ("ar", "ru", "zh_CN", "zh_TW", "zh_HK")
CHINESE_PERSON = "\u4eba"  # 人
DEMONYMS_CSV = REFERENCE_DIR / "country_demonyms.csv"

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
    candidates: tuple[str, ...] = ()  # ISO3 codes an ambiguous text could mean


@dataclass(frozen=True)
class _Match:
    kind: str
    iso3: str | None
    method: str
    candidates: tuple[str, ...] = ()


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
    """Curated alias texts: alias, iso3 (empty = deliberately unresolved), candidates (for an
    ambiguous text: the ISO3 codes it could mean, space-separated), note. A copy."""
    return _aliases().copy()


@cache
def _cldr_alt_names() -> pd.DataFrame:
    return pd.read_csv(CLDR_ALT_CSV, dtype=str, keep_default_na=False)


@cache
def _cldr_territories(locale: str) -> dict[str, str]:
    """CLDR's standard territory names of one locale (iso2 -> name), from Babel."""
    from babel import Locale  # CLDR data, loaded only when names are needed

    return dict(Locale.parse(locale).territories)


@cache
def country_codes() -> frozenset[str]:
    """The ISO 3166-1 alpha-3 codes of countries.csv."""
    return frozenset(_countries()["iso3"])


@cache
def country_name(iso3: str, language: str = "en") -> str:
    """A country's name in one of the six languages, as a report shows it: English from
    countries.csv (the UN M49 names), the others from CLDR (Babel). Where CLDR's standard name
    tells two countries apart by a city ("الكونغو - برازافيل") its variant is preferred
    ("جمهورية الكونغو"). Every name returned resolves back to `iso3` (tested, not checked at
    each call); an unknown code is returned as it is."""
    rows = _countries()
    match = rows[rows["iso3"] == iso3]
    if match.empty:
        return iso3
    # The first candidate: it resolves back to `iso3` for all 249 codes in the six languages,
    # which tests/test_country_names_i18n.py checks. Checking it here, at each call, built the
    # resolver's index of every language (CLDR's data, half a second) to name one country.
    return _display_names(match.iloc[0], language)[0]


def _display_names(row, language: str) -> list[str]:
    """Candidate names for display, best first; none empty."""
    if language == "en":
        return [name for name in (row["name"], row["name_glotip"], row["official_name"]) if name]
    standard = _cldr_territories(language).get(row["iso2"], "")
    alt = _cldr_alt_names()
    alt = alt[(alt["iso3"] == row["iso3"]) & (alt["locale"] == language)]
    variants = list(alt.loc[alt["alt"] == "variant", "name"])
    shorts = list(alt.loc[alt["alt"] == "short", "name"])
    names = (variants if " - " in standard else []) + [standard] + shorts + variants
    return [name for name in names if name] + [row["name"]]


def __getattr__(name: str):
    # COUNTRY_CODES is computed on first use so importing this module reads no file.
    if name == "COUNTRY_CODES":
        return country_codes()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# ---------------------------------------------------------------- normalisation

_NOT_WORD = re.compile(r"[^\w\ufffd]+|_")  # keep U+FFFD: it is the wildcard for mojibake
_TOKEN_REWRITES = {"st": "saint"}
# Arabic letters written more than one way (hamza and madda on alef, and vowel marks, are
# combining marks and go with the accents): alef wasla -> alef, alef maqsura and Persian yeh ->
# yeh, teh marbuta -> heh (a common final spelling), Persian keheh -> kaf; tatweel (a
# stretching stroke) dropped.
_ARABIC_FOLDS = str.maketrans({"\u0671": "\u0627", "\u0649": "\u064a", "\u06cc": "\u064a",
                               "\u0629": "\u0647", "\u06a9": "\u0643", "\u0640": None})
# Chinese is written without spaces: punctuation between characters (・ ·) leaves none.
_CJK = "\u2e80-\u9fff\uf900-\ufaff"
_SPACE_IN_CJK = re.compile(f"(?<=[{_CJK}]) (?=[{_CJK}])")


def normalise_name(text: str) -> str:
    """Matching key: full-width forms made ordinary (NFKD), case-folded (Cyrillic too),
    accents, Arabic vowel marks and punctuation (incl. curly or straight apostrophes, full-width
    brackets) removed, so ё reads as е; Arabic letter forms unified (`_ARABIC_FOLDS`), "&" read
    as "and", "St" as "Saint", a leading "the" dropped, spaces collapsed and dropped between
    Chinese characters. U+FFFD replacement characters are kept (resolve_country uses them as
    wildcards)."""
    decomposed = unicodedata.normalize("NFKD", str(text))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    stripped = stripped.translate(_ARABIC_FOLDS)
    words = _NOT_WORD.sub(" ", stripped.casefold().replace("&", " and ")).split()
    words = [_TOKEN_REWRITES.get(word, word) for word in words]
    if len(words) > 1 and words[0] == "the":
        words = words[1:]
    return _SPACE_IN_CJK.sub("", " ".join(words))


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


_ARABIC_ARTICLE = "\u0627\u0644"  # ال
_ARABIC_REPUBLIC = "\u062c\u0645\u0647\u0648\u0631\u064a\u0629 "  # "جمهورية "
_RUSSIAN_ISLAND_WORDS = {"о-ва": "острова", "о-в": "остров"}
_RUSSIAN_ISLANDS = re.compile(r"\bо-ва?\b")


def _script_variants(name: str) -> list[str]:
    """Short forms of names in any script: those of `_name_variants` (after NFKC, so that
    full-width brackets and commas count), CLDR's Russian abbreviations written out ("о-ва" ->
    "острова"), the part before CLDR's " - " ("Congo - Brazzaville" -> "Congo"), the inversion
    at an Arabic comma, and Arabic names without a leading "جمهورية " or without the article
    "ال" of their first word ("السودان" -> "سودان"). Only used where they stay unambiguous."""
    name = unicodedata.normalize("NFKC", name)
    variants = _name_variants(name)
    expanded = _RUSSIAN_ISLANDS.sub(lambda match: _RUSSIAN_ISLAND_WORDS[match.group(0)], name)
    if expanded != name:  # CLDR's "Фарерские о-ва": people write "острова"
        variants += [expanded, *_name_variants(expanded)]
    if " - " in name:
        variants.append(name.split(" - ")[0])
    if "\u060c " in name:  # Arabic comma
        head, tail = name.split("\u060c ", 1)
        variants += [f"{tail} {head}", head]
    for text in [name, *variants]:
        if text.startswith(_ARABIC_REPUBLIC):
            variants.append(text.removeprefix(_ARABIC_REPUBLIC))
    for text in list(variants) + [name]:
        if text.startswith(_ARABIC_ARTICLE) and len(text.split()[0]) > 3:
            variants.append(text.removeprefix(_ARABIC_ARTICLE))
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

    def __init__(self, key_of=normalise_name):
        self.targets: dict[str, dict[str, str]] = {}  # key -> {iso3: method}
        self.key_of = key_of

    def add(self, text: str, iso3: str, method: str) -> None:
        key = self.key_of(text)
        if key:
            self.targets.setdefault(key, {}).setdefault(iso3, method)


@cache
def _index() -> dict[str, _Match]:
    """Normalised key -> match, every tier: those of `_earlier_index`, then the UN languages'
    names (CLDR, CLDR's alternative forms, pycountry's Arabic, Russian and Chinese
    translations) and their short forms. They come last so that they cannot change what a
    name resolved to before; they are built only when a text misses the earlier tiers (a
    submission of codes or English names never loads CLDR's data)."""
    index = dict(_earlier_index())
    _claim(index, _un_language_tiers())
    _claim(index, [_demonym_tier()])
    return index


@cache
def _earlier_index() -> dict[str, _Match]:
    """Normalised key -> match. Earlier tiers win: keywords, curated aliases, English names,
    translated names, then short forms of both. A key that names two countries in a tier is
    recorded as ambiguous, with its candidates, and no later tier may claim it (a later tier
    cannot know better). All translation languages share one tier so that no language
    silently wins over another."""
    index: dict[str, _Match] = {
        key: _Match(kind, None, "keyword") for key, kind in KEYWORD_KINDS.items()
    }
    for alias in _aliases().itertuples(index=False):
        key = normalise_name(alias.alias)
        if key and key not in index:
            iso3 = alias.iso3 or None
            candidates = tuple(alias.candidates.split())
            if candidates:  # curated ambiguity: "Korean" is KOR or PRK
                index[key] = _Match("unresolved", None, "ambiguous", candidates)
            else:
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
    _claim(index, (english, translated, english_short, translated_short))
    return index


def _claim(index: dict[str, _Match], tiers: Iterable[_Tier]) -> None:
    """Add each tier's keys that no earlier tier holds: one country, or ambiguous."""
    for tier in tiers:
        for key, methods in tier.targets.items():
            if key in index:
                continue
            if len(methods) == 1:
                [(iso3, method)] = methods.items()
                index[key] = _Match("country", iso3, method)
            else:
                index[key] = _Match("unresolved", None, "ambiguous", tuple(sorted(methods)))


def _un_language_tiers() -> tuple[_Tier, _Tier]:
    """Names in the six UN languages; their short forms (`_script_variants`) and Chinese
    demonyms in the second tier."""
    # the same name comes from several sources (CLDR and pycountry, zh and zh_Hant): its key
    # and short forms are computed once, for this build only
    key_of, variants_of = cache(normalise_name), cache(_script_variants)
    names, short = _Tier(key_of), _Tier(key_of)

    def add(name: str, iso3: str, method: str) -> None:
        names.add(name, iso3, method)
        for variant in variants_of(name):
            short.add(variant, iso3, method)

    countries = list(_countries().itertuples(index=False))
    for locale in CLDR_LOCALES:
        territories = _cldr_territories(locale)
        for row in countries:
            if row.iso2 in territories:
                add(territories[row.iso2], row.iso3, f"cldr:{locale}")
                if locale.startswith("zh"):  # Chinese demonyms are the name + 人: 埃及人
                    short.add(territories[row.iso2] + CHINESE_PERSON, row.iso3, f"demonym:{locale}")
    for alt in _cldr_alt_names().itertuples(index=False):
        add(alt.name, alt.iso3, f"cldr-{alt.alt}:{alt.locale}")
    english_names = {row.iso3: _pycountry_names(row.iso3) for row in countries}
    for lang in UN_TRANSLATION_LANGUAGES:
        catalogue = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[lang])
        for row in countries:
            for name in english_names[row.iso3]:
                local = catalogue.gettext(name)
                if local != name:
                    add(local, row.iso3, f"translation:{lang}")
    return names, short


# ---------------------------------------------------------------- demonyms

@cache
def _demonyms() -> pd.DataFrame:
    return pd.read_csv(DEMONYMS_CSV, dtype=str, keep_default_na=False)


# Regular inflections of a masculine singular adjective (accents already removed), longest
# ending first: (ending, replacements). Only the last word inflects ("sud-africain").
_INFLECTIONS = {
    "es": (("es", ("esa", "eses", "esas")), ("an", ("ana", "anes", "anas")),
           ("o", ("a", "os", "as")), ("a", ("as",)), ("e", ("es",)),
           ("i", ("ies", "is")), ("u", ("ues", "us")), ("l", ("la", "les", "las")),
           ("on", ("ona", "ones", "onas"))),
    "fr": (("ien", ("ienne", "iens", "iennes")), ("en", ("enne", "ens", "ennes")),
           ("ais", ("aise", "aises")), ("ois", ("oise", "oises")),
           ("ain", ("aine", "ains", "aines")), ("in", ("ine", "ins", "ines")),
           ("an", ("ane", "ans", "anes")), ("e", ("es",)), ("s", ("se", "ses")),
           ("", ("e", "s", "es"))),
    "en": (("ese", ()), ("sh", ()), ("ch", ()), ("ss", ()), ("", ("s",))),
}


def demonym_forms(demonym: str, language: str) -> list[str]:
    """The demonym and its regular feminine and plural forms ("boliviano" -> "boliviana",
    "bolivianos", "bolivianas"; "nigérian" -> "nigériane", "nigérians", "nigérianes"). Forms
    are matching keys (normalised); irregular forms are listed in the table themselves."""
    key = normalise_name(demonym)
    head, _, last = key.rpartition(" ")
    for ending, replacements in _INFLECTIONS.get(language, ()):
        if last.endswith(ending):
            stem = last[: len(last) - len(ending)]
            return [key] + [f"{head} {stem}{end}".strip() for end in replacements]
    return [key]


DERIVED_DEMONYM = "demonym-form"  # method of a form derived by rule, not written in the table


def _demonym_tier() -> _Tier:
    """Demonyms and adjectives in English, Spanish and French (reference/country_demonyms.csv)
    with their regular inflections. A form shared by two countries is ambiguous."""
    tier = _Tier()
    for row in _demonyms().itertuples(index=False):
        base, *inflected = demonym_forms(row.demonym, row.language)
        tier.add(base, row.iso3, f"demonym:{row.language}")
        for form in inflected:
            tier.add(form, row.iso3, f"{DERIVED_DEMONYM}:{row.language}")
    return tier


# ---------------------------------------------------------------- generalising fallbacks
# Tried only for a text that no name, alias, code or repair matched, so they cannot change
# what any text resolved to before.

# Abbreviations of formal names (World Bank, UN, ISO short forms) written out, and words that
# the languages spell differently folded to one, on both sides of the comparison.
_LOOSE_WORDS = {
    "rep": "republic", "repub": "republic", "republica": "republic", "republique": "republic",
    "dem": "democratic", "democratica": "democratic", "democratique": "democratic",
    "fed": "federal", "federated": "federal", "federation": "federal", "federative": "federal",
    "sts": "states", "is": "island", "isl": "island", "isls": "island", "islands": "island",
    "islas": "island", "isla": "island", "iles": "island", "ile": "island",
    "ste": "saint", "sainte": "saint", "san": "saint", "santa": "saint", "sta": "saint",
    "peoples": "people", "popular": "people", "utd": "united",
}
_LOOSE_PHRASES = {
    "u s a": "united states america", "usa": "united states america", "u s": "united states",
    "us": "united states", "u k": "united kingdom", "uk": "united kingdom",
    "pdr": "people democratic republic", "rb": "bolivarian republic",
    "sar": "special administrative region",
}
_LOOSE_PHRASE = re.compile(r"\b(" + "|".join(sorted(_LOOSE_PHRASES, key=len, reverse=True))
                           + r")\b")
# Words that carry no name: articles and prepositions of en/es/fr/it/pt, and the words that
# say a text is about citizens ("Romanian citizens", "ciudadanos de Bolivia").
_LOOSE_STOPWORDS = frozenset(
    "of the and de del la las los le les el du des d l y et da do dos das e "
    "citizen citizens national nationals nationality ciudadano ciudadanos ciudadana ciudadanas "
    "nacional nacionales nacionalidad ressortissant ressortissants ressortissante "
    "ressortissantes nationalite".split())


def loose_key(key: str) -> str:
    """A normalised key with abbreviations written out, spelling variants folded, articles
    dropped and words sorted: "korea rep" and "republic of korea" both give "korea republic".
    A repeated word stays repeated: "Guinea and Guinea-Bissau" names two countries."""
    expanded = _LOOSE_PHRASE.sub(lambda match: _LOOSE_PHRASES[match.group(1)], key)
    words = [_LOOSE_WORDS.get(word, word) for word in expanded.split()]
    return " ".join(sorted(w for w in words if len(w) > 1 and w not in _LOOSE_STOPWORDS))


def _target(match: _Match) -> tuple[str, ...]:
    """What a key stands for: one country or keyword kind, or an ambiguity's candidates."""
    if match.method == "ambiguous":
        return match.candidates
    return (match.iso3 or match.kind,) if match.kind != "unresolved" else ()


@cache
def _loose_index() -> dict[str, frozenset[str]]:
    """loose_key -> the countries (or keyword kinds) its keys stand for."""
    loose: dict[str, set[str]] = {}
    for key, match in _index().items():
        targets = _target(match)
        if targets and (lk := loose_key(key)):
            loose.setdefault(lk, set()).update(targets)
    return {key: frozenset(targets) for key, targets in loose.items()}


@cache
def _loose_words() -> tuple[tuple[Counter, frozenset[str]], ...]:
    """The words of each loose key (with their counts) and what the key stands for."""
    return tuple((Counter(key.split()), targets) for key, targets in _loose_index().items())


def _as_match(targets: Iterable[str], method: str) -> _Match:
    targets = sorted(set(targets))
    if len(targets) != 1:
        return _Match("unresolved", None, "ambiguous", tuple(targets))
    [target] = targets
    if target in country_codes():
        return _Match("country", target, method)
    return _Match(target, None, method)


def _loose(text: str) -> _Match | None:
    """The text's loose key equals a known one ("Korea, Rep.", "St Vincent & Grenadines"), or
    its words (two at least) are part of the names of one country only ("Dem. Rep. Congo")."""
    words = loose_key(normalise_name(text))
    if not words or not words.isascii():
        return None
    loose = _loose_index()
    if words in loose:
        return _as_match(loose[words], "loose-name")
    wanted = Counter(words.split())
    if wanted.total() < 2:
        return None
    targets = {target for known, found in _loose_words() if wanted <= known
               for target in found}
    # words that several countries' names share ("republic democratic") name none of them
    return _as_match(targets, "partial-name") if 0 < len(targets) <= 3 else None


# Fuzzy matching: a misspelt text ("Guatamala", "Ukriane") takes the country of the nearest
# known name, by edit distance (insertions, deletions, substitutions and swaps of neighbouring
# letters), word by word, so that one word cannot stand in for another ("South America" is not
# "South Africa"). A word of fewer than 4 letters must match exactly, one of 4 to 8 letters may
# differ by one edit, a longer one by two; the text by two at most. The nearest country is
# taken only if every other country (or keyword) is at least one edit further; otherwise the
# text is refused as ambiguous. Texts of fewer than FUZZY_MIN_LETTERS letters are never
# fuzzy-matched: one letter turns a short name into another ("Mali"/"Bali", "Niger"/"Nigeria").
FUZZY_MIN_LETTERS = 6
FUZZY_MAX_EDITS = 2


def _allowed_edits(word: str) -> int:
    return 0 if len(word) < 4 else 1 if len(word) < 9 else 2


def edit_distance(a: str, b: str, limit: int) -> int:
    """Optimal-string-alignment distance between a and b (a swap of neighbours is one edit);
    any value above `limit` is returned as limit + 1 (the search stops early)."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, char_b in enumerate(b, 1):
            cost = char_a != char_b
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and char_a == b[j - 2] and a[i - 2] == char_b:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return min(previous[-1], limit + 1)


@cache
def _fuzzy_keys() -> dict[int, tuple[tuple[tuple[str, ...], tuple[str, ...], bool], ...]]:
    """Latin-script keys (names, aliases, demonyms, keywords) by number of words: the words,
    what they stand for, and whether the key may be the match. Demonyms may not: their forms
    differ from each other and from region words by one letter ("american"/"americas",
    "nigerian"/"nigerien"), so they only count as rivals that make a text ambiguous."""
    keys: dict[int, list] = {}
    for key, match in _index().items():
        if key.isascii() and (targets := _target(match)):
            words = tuple(key.split())
            keys.setdefault(len(words), []).append(
                (words, targets, not match.method.startswith("demonym")))
    return {count: tuple(entries) for count, entries in keys.items()}


def _word_edits(words: tuple[str, ...], known: tuple[str, ...]) -> int:
    """Edits between two texts of as many words, or FUZZY_MAX_EDITS + 1 if a word differs
    by more than its length allows."""
    total = 0
    for word, other in zip(words, known):
        if word != other:
            allowed = _allowed_edits(word)
            edits = edit_distance(word, other, allowed)
            total += edits
            if edits > allowed or total > FUZZY_MAX_EDITS:
                return FUZZY_MAX_EDITS + 1
    return total


def _fuzzy(text: str) -> _Match | None:
    key = normalise_name(text)
    if len(key.replace(" ", "")) < FUZZY_MIN_LETTERS or not key.isascii() or any(
            ch.isdigit() for ch in key):
        return None
    words = tuple(key.split())
    nearest: dict[str, tuple[int, bool]] = {}  # target -> fewest edits, by a key that may win
    for known, targets, may_win in _fuzzy_keys().get(len(words), ()):
        edits = _word_edits(words, known)
        if edits <= FUZZY_MAX_EDITS:
            # an ambiguous key counts for all its candidates, so it can only cause a refusal
            for target in targets:  # fewest edits first; at equal edits, a key that may win
                found = (edits, may_win)
                nearest[target] = min(nearest.get(target, found), found,
                                      key=lambda pair: (pair[0], not pair[1]))
    if not nearest:
        return None
    fewest = min(edits for edits, _ in nearest.values())
    closest = [target for target, (edits, _) in nearest.items() if edits == fewest]
    if len(closest) == 1 and not nearest[closest[0]][1]:
        return None  # only a demonym is that close: not enough to name the country
    return _as_match(closest, "fuzzy")


@cache
def _iso2_to_iso3() -> dict[str, str]:
    return dict(zip(_countries()["iso2"], _countries()["iso3"]))


# ---------------------------------------------------------------- resolution

def _lookup(text: str) -> _Match | None:
    """Codes (full-width letters too), then the name index; None when nothing matches."""
    code = unicodedata.normalize("NFKC", text).strip().upper()
    if code.isascii() and code.isalpha():
        if len(code) == 3 and code in country_codes():
            return _Match("country", code, "iso3")
        if len(code) == 2 and code in _iso2_to_iso3():
            return _Match("country", _iso2_to_iso3()[code], "iso2")
    key = normalise_name(text)
    return _earlier_index().get(key) or _index().get(key)


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
    if match is None:
        match = _loose(text) or _fuzzy(text)
    return match or _Match("unresolved", None, "none")


def ambiguity(text: str, separator: str | None = None) -> tuple[str, ...]:
    """The ISO3 codes an unresolved text could mean: the candidates of its ambiguous names, when
    every name in it that does not resolve is ambiguous (a list's items split at `separator`);
    () when some name is simply unknown, or all resolve."""
    items = [item for item in (text.split(separator) if separator else [text]) if item.strip()]
    matches = [match for match in map(_resolve_text, items) if match.kind == "unresolved"]
    if not matches or any(match.method != "ambiguous" for match in matches):
        return ()
    return tuple(sorted({code for match in matches for code in match.candidates}))


def _is_missing(text) -> bool:
    return text is None or (not isinstance(text, str) and pd.isna(text))


def resolve_country(
    text: str | None, *, detecting_country: str | None = None
) -> CountryResolution:
    """Resolve one free-text country name.

    kind: "country" (iso3 set), "nationals" (iso3 = detecting_country, None if not given),
    "unknown", "abroad" (another country, not named), "unresolved" (method "ambiguous", with
    the ISO3 `candidates` it could mean; "alias" for texts deliberately left unresolved, or
    "none"), "empty" (None/NaN/blank).
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
    return CountryResolution(match.kind, iso3, text, match.method, match.candidates)


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
