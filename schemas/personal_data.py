"""The one personal-data screen: does a submitted text hold a name, a contact or an identifier?

Victims' and offenders' identities must never reach the warehouse, the analysts or a report.
Every free-text column is screened by validation (rule `personal-data`), and every text a
finding would echo is screened by `schemas.findings.make_finding`, so whatever rule quotes a
cell, a text that hits is withheld.

What is caught, in the six languages of the reports (ar, zh, en, fr, ru, es):
- `email`: an address (`name@domain.org`, `name [at] domain.org`, the full-width `＠`);
- `telephone`: an international number (`+234 803 ...`, `00 33 ...`), a national one that
  starts with 0 or an area code in brackets, a Chinese mobile number, or digits after a
  telephone word (tel, phone, téléphone, teléfono, هاتف, телефон, 电话 ...);
- `identity_number`: a passport-like code (`A1234567`), an 18-digit Chinese ID, a US SSN, or
  an identifier after a passport or ID word (passport, passeport, pasaporte, جواز, паспорт,
  护照, DNI, cédula, carte d'identité, بطاقة الهوية, 身份证 ...);
- `date_of_birth`: a date or a year after a birth word (born, né, nacido, مواليد, родился,
  出生 ...), `1990 г.р.`, `1990年3月12日出生`;
- `personal_name`: a name where the text itself marks one: a title before a capitalised word
  (Mr, Mrs, Dr, M., Mme, Sr., Sra., Herr ...; السيد / السيدة before a word; г-н, г-жа,
  господин before a capitalised word), a naming word (named, called, alias, nommé, llamado,
  المدعو, по имени, 名叫 ...), a Russian surname with initials (`Иванов И.И.`), a Chinese
  surname before 先生 / 女士 / 小姐, or a name (not the anonymised 某) after 被告人 / 被害人.
  A bare name in a sentence cannot be told from a place or an agency by a pattern; the
  template asks for none.

Time grows linearly with the text: every repetition of the patterns (the `regex` module) is
bounded (`{1,64}`, never `+` or `*`), so the work at each position of the text is bounded, and
a timeout stops anything slower; a text not screened in time counts as a hit (withheld: better
safe). Each alternative is compiled on its own (`PATTERNS`), which lets the module skip ahead
to where it can start. tests/test_personal_data.py measures the time on hostile texts, and
recall and false alarms on a labelled set (figures in docs/operations.md).
"""

from __future__ import annotations

import time
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import PurePath

import regex

KINDS = ("email", "telephone", "identity_number", "date_of_birth", "personal_name")
NOT_SCREENED_IN_TIME = "not_screened"  # the kind reported when the timeout stops the screen
TIMEOUT_SECONDS = 2.0  # far above the ~10 ms of a 32,767-character cell; a guard, not a limit
# Below this length a text is screened without a timer: its time is bounded by its length (a
# few ms), and the timer costs more than the search on short texts (2.5 µs a pattern).
TIMED_FROM_CHARS = 10_000

# -- the parts ---------------------------------------------------------------------------------
# Every repetition is bounded. `(?<!...)` and `(?!...)` keep a match from starting or ending
# inside a longer word or number. Words of Latin and Cyrillic scripts must stand alone; Arabic
# and Chinese ones need not (Arabic joins و or ب to the word, Chinese has no spaces).
_WORD_START = r"(?<![\p{L}\p{N}_\-])"
_WORD_END = r"(?![\p{L}\p{N}_])"
_SEP = r"[ .\-\u00a0]"  # between digit groups of a telephone number


def _words(latin_cyrillic: str, arabic_chinese: str = "", *, ignore_case: bool = False) -> str:
    """A marker word of any of the six languages, in lower case: a pattern that starts with one
    reads the lower-cased text (`_Pattern.lower_case`: faster than ignoring case);
    `ignore_case` for markers followed by something whose case matters (a capitalised name)."""
    words = f"(?i:{latin_cyrillic})" if ignore_case else f"(?:{latin_cyrillic})"
    bounded = rf"{_WORD_START}{words}(?:{_WORD_END}|(?<=\.))"
    return rf"(?:{bounded}|(?:{arabic_chinese}))" if arabic_chinese else bounded


def _digits_ahead(low: int, high: int) -> str:
    """What follows is a run of `low` to `high` digits, with separators or brackets between
    (and no more digits after a separator: `01234-2021-0-1801` is one run of 14)."""
    return rf"(?=(?:\d[ .\-\u00a0()]{{0,3}}){{{low},{high}}}(?![ .\-\u00a0()]{{0,3}}\d))"


_EMAIL = (r"(?<![\w.+-])[\w.+-]{1,64}"
          r"(?:@|＠|\s{0,2}[\[(](?i:at)[\])]\s{0,2})"
          r"[\w-]{1,63}(?:(?:\.|\s{0,2}[\[(](?i:dot)[\])]\s{0,2})[\w-]{1,63}){0,6}"
          r"(?:\.|\s{0,2}[\[(](?i:dot)[\])]\s{0,2})[A-Za-z]{2,24}(?![\w-])"
          # spelled out: name at domain dot org
          r"|(?<![\w.+-])[\w.+-]{1,64}\s(?i:at)\s[\w-]{1,63}(?:\s(?i:dot)\s[\w-]{1,63}){1,4}(?![\w-])")

_PHONE_WORDS = _words(
    r"tel|tél|tfno|telf|phone|phone number|telephone|téléphone|teléfono|telefono|mobile|cell|"
    r"cellphone|portable|móvil|movil|celular|whatsapp|viber|telegram|signal|"
    r"телефон|телефона|телефону|тел|моб|мобильный|сотовый|ватсап",
    r"هاتف|الهاتف|هاتفه|هاتفها|جوال|الجوال|موبايل|واتساب|电话|手机|联系电话|微信|手机号|电话号码")
_TELEPHONE = (
    # international: +234 803 123 4567, 0044 20 7946 0958, +7 (912) 345-67-89
    rf"(?<![\w+])\+{_SEP}{{0,2}}{_digits_ahead(8, 15)}\d"
    rf"|(?<![\w+,.])00{_digits_ahead(6, 13)}[1-9]"
    # national, from a trunk 0: 0803 123 4567, 08 12 34 56 78, 020 7946 0958, 0812345678
    rf"|(?<![\w/.,:\-])(?<!\d[ .\-\u00a0]{{1,2}})(?=0\d){_digits_ahead(9, 12)}0\d{{1,4}}(?:{_SEP}{{1,2}}\d{{2,5}}){{1,4}}(?![\w/])"
    rf"|(?<![\w/.,:\-])0\d{{8,11}}(?![\w/])"
    # an area code in brackets: (02) 123 4567, 8 (912) 345-67-89
    rf"|(?<![\w/])(?:8\s?)?\({_digits_ahead(8, 13)}\d{{2,5}}\){_SEP}{{0,2}}\d{{2,4}}"
    rf"(?:{_SEP}{{0,2}}\d{{2,4}}){{1,3}}(?![\w/])"
    # three, three and four digits: 555-123-4567, (555) 123 4567
    r"|(?<![\w/.,\-])\(?\d{3}\)?[ .\-]\d{3}[ .\-]\d{4}(?![\w/])"
    # a Chinese mobile number: 13812345678
    r"|(?<!\d)1[3-9]\d{9}(?!\d)"
    # digits after a telephone word: tel. 2 123 4567, 电话：12345678
    rf"|{_PHONE_WORDS}[^\d\n]{{0,15}}{_digits_ahead(6, 15)}\+?\(?\d"
)

_ID_WORDS = _words(
    r"passports?|passeports?|pasaportes?|identity card|"
    r"identity document|id card|id no|id number|id nr|id(?=\s?[:#№])|national id|national identity|"
    r"nin|nic|cnic|nid|aadhaar|aadhar|voter id|"
    r"carte d'identité|carte d’identité|carte nationale d'identité|cni|"
    r"pièce d'identité|pièce d’identité|numéro d'identification|dni|nie|"
    r"cédula de identidad|cedula de identidad|cédula|cedula|"
    r"documento de identidad|documento nacional de identidad|curp|ssn|social security number|"
    r"паспорт[а-яё]{0,3}|загранпаспорт[а-яё]{0,3}|удостоверени[а-яё]{1,2} личности|инн|снилс",
    r"جواز سفر|جواز السفر|جواز سفره|جواز سفرها|جواز|بطاقة الهوية|بطاقة هوية|رقم الهوية|"
    r"الرقم الوطني|الرقم القومي|护照号码|护照号|护照|身份证号码|身份证号|身份证|证件号码|证件号")
_IDENTITY = (
    # an identifier after a passport or ID word: passport no. A1234567, паспорт 4510 123456
    rf"{_ID_WORDS}\W{{0,3}}(?:(?:no|nr|n\.?[°ºo]|number|numéro|número|núm|серии|серия|№|号码|号|رقم)"
    rf"\.?\W{{0,3}})?(?=(?:[\p{{L}}\-]{{0,4}}\s?\d){{5}})[\p{{L}}\p{{N}}\-]{{1,20}}"
    # a passport-like code: A1234567, AB123456
    rf"|(?<![\w/\-])[A-Z]{{1,2}}\d{{6,9}}(?![\w/\-])"
    # an 18-digit Chinese resident ID, a US social security number
    r"|(?<![\w/\-])\d{17}[\dXx](?![\w/\-])"
    r"|(?<![\w/\-])\d{3}-\d{2}-\d{4}(?![\w/\-])"
)

_BIRTH_WORDS = _words(
    r"born|born on|born in|b\.|date of birth|birth date|birthdate|d\.o\.b\.|dob|"
    r"né|née|né le|née le|né en|née en|date de naissance|"
    r"nacido|nacida|nacido el|nacida el|nacido en|nacida en|nació|nacio|fecha de nacimiento|"
    r"f\. nac\.|naquit|"
    r"дата рождения|даты рождения|родился|родилась|года рождения|год рождения",
    r"تاريخ الميلاد|تاريخ ميلاده|تاريخ ميلادها|مواليد|المولود|المولودة|ولد|ولدت|"
    r"تاريخ الولادة|出生日期|出生于|生于|出生|生日")
_A_DATE = (r"(?:\d{1,2}[./\- ]\d{1,2}[./\- ]\d{2,4}"  # 12/03/1990, 12.03.90
           r"|\d{4}[./\-]\d{1,2}[./\-]\d{1,2}"  # 1990-03-12
           r"|\d{1,2}\s{0,2}(?:de\s)?\p{L}{3,12}\.?\s{0,2}(?:de\s)?(?:19|20)\d{2}"  # 12 mars 1990
           r"|\p{L}{3,12}\.?\s\d{1,2},?\s(?:19|20)\d{2}"  # March 12, 1990
           r"|(?:19|20)\d{2})(?!\d)")  # a year of birth
_DATE_OF_BIRTH = (
    rf"{_BIRTH_WORDS}[^\d\n]{{0,20}}{_A_DATE}"
    # 1990 г.р. (year of birth), 1990年3月12日出生
    r"|(?<!\d)(?:19|20)\d{2}\s?г\.\s?р\."
    r"|(?<!\d)(?:19|20)\d{2}\s(?:года|г\.)\s?рождения"
    r"|(?<!\d)(?:19|20)\d{2}年(?:\d{1,2}月(?:\d{1,2}日)?)?(?:出生|生)"
)

# Titles: with a dot (and then maybe no space: `Mr.Smith`) or a space; some only with a dot
# (`M. Dupont`, not `M Dupont`).
_TITLES = (r"(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Messrs|Sir|Mme|Mmes|Mlle|Mlles|Me|Madame|Monsieur|"
           r"Mademoiselle|Maître|Docteur|Doctor|Doctora|Dra|Sr|Sra|Srta|Sres|Señor|Señora|Señorita|"
           r"Don|Doña|Dña|Mister|Madam|Herr|Frau)(?:\.\s{0,3}|\s{1,3})"
           r"|(?:M|MM|Lic|Licda|Ing)\.\s{0,3}")
_NAMING = _words(
    r"named|called|known as|alias|aka|a\.k\.a\.|nicknamed|whose name is|"
    r"nommé|nommée|dénommé|dénommée|appelé|appelée|dit|dite|surnommé|surnommée|prénommé|"
    r"prénommée|du nom de|by the name of|goes by|"
    r"llamado|llamada|apodado|apodada|conocido como|conocida como|de nombre|alias el|"
    r"по имени|по фамилии|по кличке|по прозвищу|именуемый|именуемая|некто|некий|некая|"
    r"известный как|известная как|г-н|г-на|г-ну|г-ном|г-жа|г-жи|г-же|гр\.|господин|"
    r"господина|госпожа|госпожи", ignore_case=True)
_CAPITALISED = r"\p{Lu}[\p{L}'’\-]{1,30}"
# Arabic titles and naming words (Arabic has no capitals: any word after them); not يدعى أن
# (it is alleged that)
_AR_NAMING = (r"السيد|السيدة|الآنسة|السيدان|المدعو|المدعوة|المدعوين|يدعى|تدعى|يُدعى|تُدعى|الملقب|"
              r"الملقبة|المسمى|المسماة|اسمه|اسمها|واسمه|واسمها|المكنى|المكناة")
_AR_WORD = r"[\u0621-\u063A\u0641-\u064A]{2,30}"
# Common Chinese surnames, without those that are also common words after 受害人 (曾 once,
# 于 at, 向 towards, 严 serious, 苏 wake, 陆 one after another, 韩 Korea, 钱 money ...).
_ZH_SURNAMES = ("王李张刘陈杨黄赵吴周徐孙朱胡郭何林罗郑梁谢宋唐许冯邓曹彭肖董袁潘蒋蔡余杜叶"
                "程魏吕丁沈姚卢姜崔钟谭汪范廖贾夏韦邹孟熊秦邱尹薛闫雷侯陶黎贺郝龚邵覃戴孔汤")
_ZH_ROLES = r"被告人|被害人|受害人|犯罪嫌疑人|嫌疑人|证人"  # a name follows only sometimes
_ZH_NAMING = r"名叫|叫做|化名|绰号|外号|姓名[:：]?"  # a name always follows
_PERSONAL_NAME = (
    # a title before a capitalised word: Mr Smith, M. Dupont, Sra. García, Herr Müller
    rf"(?<![\p{{L}}.])(?:{_TITLES}){_CAPITALISED}"
    # a naming word before a capitalised word: named Kofi, nommé Diallo, по имени Иван
    rf"|{_NAMING}\s{{1,3}}[\"“«'‘]?{_CAPITALISED}"
    rf"|(?<![\u0621-\u064A])(?:{_AR_NAMING})\s{{1,3}}(?!أن|بأن|إن)[\"«]?{_AR_WORD}"
    # a Russian surname with initials: Иванов И.И., И. И. Иванов
    r"|(?<!\p{L})[А-ЯЁ][а-яё]{1,30}\s{1,2}[А-ЯЁ]\.\s?[А-ЯЁ]\."
    r"|(?<!\p{L})[А-ЯЁ]\.\s?[А-ЯЁ]\.\s?[А-ЯЁ][а-яё]{1,30}"
    # a Russian name with a patronymic: Иван Петрович, Петрова Анна Ивановна
    r"|(?<!\p{L})[А-ЯЁ][а-яё]{1,30}\s{1,2}[А-ЯЁ][а-яё]{1,30}(?:(?:ович|евич|ьич)(?:а|у|ем|е)?|(?:овн|евн|ичн)(?:а|ы|е|у|ой))(?!\p{L})"
    # Chinese: a surname before 先生 / 女士 / 小姐; a name after 被告人 / 名叫 (not the anonymised 某)
    rf"|[{_ZH_SURNAMES}]\p{{Han}}{{0,2}}(?:先生|女士|小姐)"
    rf"|(?:{_ZH_ROLES})[{_ZH_SURNAMES}](?!\p{{Han}}?某)\p{{Han}}{{1,2}}"
    rf"|(?:{_ZH_NAMING})(?!\p{{Han}}?某)\p{{Han}}{{2,3}}"
    # 一个叫李娜的女子, 姓王的男子
    rf"|[叫姓][{_ZH_SURNAMES}](?!\p{{Han}}?某)\p{{Han}}{{0,2}}的"
    rf"|(?:{_ZH_NAMING})\s?\p{{Lu}}\p{{Ll}}{{1,30}}"
)



def _alternatives(pattern: str) -> list[str]:
    """A pattern's top-level alternatives: each is compiled on its own, which lets the regex
    module skip ahead to its first character (one pattern of all of them is 3x slower)."""
    parts, depth, start, in_set, index = [], 0, 0, False, 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            index += 2
            continue
        if in_set:
            in_set = char != "]"
        elif char == "[":
            in_set = True
        elif char in "()":
            depth += 1 if char == "(" else -1
        elif char == "|" and depth == 0:
            parts.append(pattern[start:index])
            start = index + 1
        index += 1
    return [*parts, pattern[start:]]


@dataclass(frozen=True)
class _Pattern:
    kind: str
    pattern: regex.Pattern
    lower_case: bool  # matched against the lower-cased text (it starts with a lower-case marker)


def _compiled(*kinds: tuple[str, str]) -> tuple[_Pattern, ...]:
    markers = (_PHONE_WORDS, _ID_WORDS, _BIRTH_WORDS)
    return tuple(_Pattern(kind, regex.compile(alternative, regex.VERSION1), alternative.startswith(markers))
                 for kind, pattern in kinds for alternative in _alternatives(pattern))


PATTERNS = _compiled(("email", _EMAIL), ("identity_number", _IDENTITY),
                     ("date_of_birth", _DATE_OF_BIRTH), ("telephone", _TELEPHONE),
                     ("personal_name", _PERSONAL_NAME))


# What each kind needs at the least, to skip the patterns of a kind that cannot be there (most
# cells of a file, codes and numbers, need none): a date of birth 4 digits, a telephone or an
# identity number 5; an address `@` or `at`; a name a capital, Arabic or Chinese letter.
_DIGITS_NEEDED = {"date_of_birth": 4, "telephone": 5, "identity_number": 5}
_ADDRESS_SIGNS = ("@", "at")
_A_DIGIT = regex.compile(r"\d")
_NAME_SIGN = regex.compile(r"[\p{Lu}\p{Han}\u0621-\u064A]")
# Invisible format characters (zero-width spaces, soft hyphens) and Arabic marks (vowel signs,
# shadda, the kashida that stretches a word: السّيد, الســيد) are dropped; dashes are hyphens.
_IGNORED = regex.compile(r"[\p{Cf}\u064B-\u065F\u0670\u0640]")
_DASHES = regex.compile(r"[\u2010-\u2015\u2212]")


@lru_cache(maxsize=4096)  # the same short text (a code, a label) is screened once per process
def _screen_short(text: str) -> str | None:
    return _screen(text, TIMEOUT_SECONDS)


def screen(text: object, timeout: float = TIMEOUT_SECONDS) -> str | None:
    """The kind of personal data `text` seems to hold (one of KINDS), NOT_SCREENED_IN_TIME when
    the screen could not finish within `timeout` seconds, or None when it holds none that a
    pattern can see."""
    if text is None:
        return None
    text = str(text)
    if len(text) <= 200 and timeout == TIMEOUT_SECONDS:
        return _screen_short(text)
    return _screen(text, timeout)


def _screen(text: str, timeout: float) -> str | None:
    # Full-width and other compatibility forms (`０８０３`, `＠`) read as plain ones, and
    # nothing invisible splits a number or a word.
    text = _DASHES.sub("-", _IGNORED.sub("", unicodedata.normalize("NFKC", text)))
    lower = text.lower()
    digits = len(_A_DIGIT.findall(text))
    skipped = {kind for kind, needed in _DIGITS_NEEDED.items() if digits < needed}
    if not any(sign in lower for sign in _ADDRESS_SIGNS):
        skipped.add("email")
    if not _NAME_SIGN.search(text):
        skipped.add("personal_name")
    timed = len(text) >= TIMED_FROM_CHARS
    deadline = time.monotonic() + timeout
    try:
        for each in PATTERNS:
            if each.kind in skipped:
                continue
            subject = lower if each.lower_case else text
            if not timed:
                found = each.pattern.search(subject)
            elif (left := deadline - time.monotonic()) > 0:
                found = each.pattern.search(subject, timeout=left)
            else:
                return NOT_SCREENED_IN_TIME
            if found:
                return each.kind
    except TimeoutError:
        return NOT_SCREENED_IN_TIME
    return None


def holds_personal_data(text: object) -> bool:
    return screen(text) is not None


def shown_file_name(name: str) -> str:
    """A submitted file's name as reports, the register and logs show it: `(withheld).xlsx`
    when the name itself holds personal data."""
    if not holds_personal_data(name):
        return name
    suffix = PurePath(name).suffix
    return "(withheld)" + (suffix if regex.fullmatch(r"\.[A-Za-z0-9]{1,8}", suffix) else "")


def shown(text: str | None) -> str | None:
    """`text` when it may be shown or stored, None when it holds personal data."""
    return None if text is None or holds_personal_data(text) else text
