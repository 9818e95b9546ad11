"""The portal's own records, in one SQLite file: accounts, sessions, sign-in attempts, the
checks users ran, what they submitted, and the audit log.

SQLite, not the warehouse: the portal answers many small requests at once while an ingestion
may hold the DuckDB file for minutes; the two never wait on each other. Every function takes
the open `Store`; nothing is kept between calls but the file.

Secrets are never stored: an account's secret as an argon2 hash (argon2-cffi's defaults, RFC
9106), a session's token and a one-time sign-in link as their SHA-256 (they are long random
values, so a fast hash is enough and lets a request find its row).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from warehouse.session import transaction

TEAM = "*"  # the data team's `country`: sees every country

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    user_id       INTEGER PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE COLLATE NOCASE,
    country       TEXT NOT NULL,            -- ISO 3166-1 alpha-3, or '*' for the data team
    secret_hash   TEXT NOT NULL,            -- argon2id
    created_at    TEXT NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS sign_in_links (
    token_hash    TEXT PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users(user_id),
    expires_at    TEXT NOT NULL,
    used_at       TEXT
);
CREATE TABLE IF NOT EXISTS sessions (
    token_hash    TEXT PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users(user_id),
    csrf_token    TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    expires_at    TEXT NOT NULL,
    ended_at      TEXT                     -- signed out: the token is dead from then on
);
CREATE TABLE IF NOT EXISTS sign_in_attempts (
    at            TEXT NOT NULL,
    email         TEXT NOT NULL COLLATE NOCASE,
    client        TEXT NOT NULL,
    succeeded     INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS sign_in_attempts_email ON sign_in_attempts (email, at);
CREATE INDEX IF NOT EXISTS sign_in_attempts_client ON sign_in_attempts (client, at);
CREATE TABLE IF NOT EXISTS checks (
    check_id      TEXT PRIMARY KEY,          -- random, not guessable
    user_id       INTEGER NOT NULL REFERENCES users(user_id),
    country       TEXT NOT NULL,             -- the user's country (the data team's: '*')
    file_name     TEXT NOT NULL,             -- as shown (personal data withheld)
    file_format   TEXT NOT NULL,             -- xlsx, zip or csv
    sha256        TEXT,
    file_country  TEXT,                      -- the country the file declares
    status        TEXT NOT NULL,             -- checking, validated..., rejected, failed
    errors        INTEGER NOT NULL DEFAULT 0,
    warnings      INTEGER NOT NULL DEFAULT 0,
    language      TEXT NOT NULL,
    report_dir    TEXT,
    created_at    TEXT NOT NULL,
    submitted_at  TEXT,
    submitted_as  TEXT,                      -- the inbox entry's name
    removed_at    TEXT                       -- its file and report deleted (`glotip portal prune`)
);
CREATE TABLE IF NOT EXISTS audit (
    at            TEXT NOT NULL,
    event         TEXT NOT NULL,             -- sign-in, sign-in-refused, sign-out, upload, ...
    email         TEXT,
    country       TEXT,
    object        TEXT,                      -- a check, submission or template asked for
    outcome       TEXT NOT NULL,             -- ok, refused, failed, ...
    detail        TEXT,
    client        TEXT
);
"""


@dataclass(frozen=True)
class User:
    user_id: int
    email: str
    country: str

    @property
    def is_team(self) -> bool:
        return self.country == TEAM

    def may_see(self, country: str | None) -> bool:
        """A focal point sees their own country's records; the data team sees all."""
        return self.is_team or (country is not None and country == self.country)


@dataclass(frozen=True)
class Session:
    user: User
    csrf_token: str
    token_hash: str


def now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).isoformat(timespec="seconds")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def new_secret() -> str:
    """A secret to type once: 20 random characters of an alphabet without look-alikes."""
    alphabet = "abcdefghijkmnpqrstuvwxyzACDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(20))


class Store:
    """The portal's SQLite file. One connection per thread (sqlite3's rule), opened on demand;
    writes are short transactions, and WAL lets reads go on beside them."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self.hasher = PasswordHasher()
        # a hash to check a secret against when the e-mail is unknown: the answer takes as
        # long as for a known account, so timing does not tell which e-mails have one
        self._decoy = self.hasher.hash(new_secret())
        self.connection().executescript(SCHEMA)  # CREATE ... IF NOT EXISTS: one script, its own commit

    def connection(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            connection.row_factory = sqlite3.Row
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA foreign_keys=ON")
            self._local.connection = connection
        return connection

    def transaction(self):
        # IMMEDIATE: the write lock is taken at the start, so two writers queue (busy timeout)
        # instead of one failing when its read turns into a write
        return transaction(self.connection(), "BEGIN IMMEDIATE")

    def query(self, sql: str, parameters: tuple = ()) -> list[sqlite3.Row]:
        return self.connection().execute(sql, parameters).fetchall()


# -- accounts -----------------------------------------------------------------------------------

class AccountExists(ValueError):
    pass


def plausible_email(email: str) -> bool:
    """One @ between a local part and a dotted domain; no spaces or control characters."""
    email = email.strip()
    local, at, domain = email.rpartition("@")
    return (bool(at and local and "." in domain.strip(".")) and len(email) <= 254
            and all(ch.isprintable() and not ch.isspace() for ch in email))


def add_user(store: Store, email: str, country: str) -> str:
    """A new account; returns its initial secret, which is shown once and never stored."""
    secret = new_secret()
    try:
        with store.transaction() as connection:
            connection.execute(
                "INSERT INTO users (email, country, secret_hash, created_at) VALUES (?, ?, ?, ?)",
                (email, country, store.hasher.hash(secret), _stamp(now())))
    except sqlite3.IntegrityError:
        raise AccountExists(email) from None
    return secret


def reset_secret(store: Store, email: str) -> str | None:
    """A new secret for an account (the old one stops working; its sessions and unused links
    end); None when there is no such account."""
    secret = new_secret()
    with store.transaction() as connection:
        row = connection.execute("SELECT user_id FROM users WHERE email = ?", (email,)).fetchone()
        if row is None:
            return None
        connection.execute("UPDATE users SET secret_hash = ? WHERE user_id = ?",
                           (store.hasher.hash(secret), row["user_id"]))
        _end_access(connection, row["user_id"])
    return secret


def set_disabled(store: Store, email: str, disabled: bool) -> bool:
    """Disable an account (its sessions and unused links end; it cannot sign in) or enable it
    again; False when there is no such account."""
    with store.transaction() as connection:
        row = connection.execute("SELECT user_id FROM users WHERE email = ?", (email,)).fetchone()
        if row is None:
            return False
        connection.execute("UPDATE users SET disabled = ? WHERE user_id = ?", (int(disabled), row["user_id"]))
        if disabled:
            _end_access(connection, row["user_id"])
    return True


def _end_access(connection, user_id: int) -> None:
    """Every session of an account ended, every unused sign-in link of it spent."""
    moment = _stamp(now())
    connection.execute("UPDATE sessions SET ended_at = ? WHERE user_id = ? AND ended_at IS NULL", (moment, user_id))
    connection.execute("UPDATE sign_in_links SET used_at = ? WHERE user_id = ? AND used_at IS NULL", (moment, user_id))


def sign_in_link(store: Store, email: str, valid_for: dt.timedelta = dt.timedelta(hours=24)) -> str | None:
    """A one-time sign-in token for an account (its link: /sign-in/link/<token>)."""
    token = secrets.token_urlsafe(32)
    with store.transaction() as connection:
        row = connection.execute("SELECT user_id FROM users WHERE email = ? AND disabled = 0", (email,)).fetchone()
        if row is None:
            return None
        connection.execute("INSERT INTO sign_in_links VALUES (?, ?, ?, NULL)",
                           (token_hash(token), row["user_id"], _stamp(now() + valid_for)))
    return token


def users(store: Store) -> list[sqlite3.Row]:
    return store.query("SELECT email, country, created_at, disabled FROM users ORDER BY country, email")


def _user(row: sqlite3.Row) -> User:
    return User(row["user_id"], row["email"], row["country"])


def check_secret(store: Store, email: str, secret: str) -> User | None:
    """The account whose e-mail and secret these are, else None (in the same time either way)."""
    rows = store.query("SELECT * FROM users WHERE email = ? AND disabled = 0", (email,))
    stored = rows[0]["secret_hash"] if rows else store._decoy
    try:
        store.hasher.verify(stored, secret)
    except (VerificationError, InvalidHashError):
        return None
    return _user(rows[0]) if rows else None


def use_sign_in_link(store: Store, token: str) -> User | None:
    """The account of a one-time link that is unused and unexpired; the link is spent."""
    with store.transaction() as connection:
        row = connection.execute(
            "SELECT u.* FROM sign_in_links AS l JOIN users AS u USING (user_id) "
            "WHERE l.token_hash = ? AND l.used_at IS NULL AND l.expires_at > ? AND u.disabled = 0",
            (token_hash(token), _stamp(now()))).fetchone()
        if row is None:
            return None
        connection.execute("UPDATE sign_in_links SET used_at = ? WHERE token_hash = ?",
                           (_stamp(now()), token_hash(token)))
    return _user(row)


# -- sign-in attempts ---------------------------------------------------------------------------

def recent_failures(store: Store, email: str, client: str, window: dt.timedelta) -> tuple[int, int]:
    """Failed sign-ins in the last `window`: for this e-mail, and from this client."""
    since = _stamp(now() - window)
    by_email = store.query("SELECT count(*) FROM sign_in_attempts WHERE email = ? AND at > ? AND succeeded = 0",
                           (email, since))[0][0]
    by_client = store.query("SELECT count(*) FROM sign_in_attempts WHERE client = ? AND at > ? AND succeeded = 0",
                            (client, since))[0][0]
    return by_email, by_client


def record_attempt(store: Store, email: str, client: str, succeeded: bool) -> None:
    with store.transaction() as connection:
        connection.execute("INSERT INTO sign_in_attempts VALUES (?, ?, ?, ?)",
                           (_stamp(now()), email, client, int(succeeded)))


# -- sessions -----------------------------------------------------------------------------------

def start_session(store: Store, user: User, lifetime: dt.timedelta) -> tuple[str, Session]:
    """A new session: (the token for the cookie, the session)."""
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    with store.transaction() as connection:
        connection.execute("INSERT INTO sessions VALUES (?, ?, ?, ?, ?, NULL)",
                           (token_hash(token), user.user_id, csrf, _stamp(now()), _stamp(now() + lifetime)))
    return token, Session(user, csrf, token_hash(token))


def find_session(store: Store, token: str) -> Session | None:
    """The live session of a cookie's token: not signed out, not expired, account enabled."""
    rows = store.query(
        "SELECT u.*, s.csrf_token, s.token_hash FROM sessions AS s JOIN users AS u USING (user_id) "
        "WHERE s.token_hash = ? AND s.ended_at IS NULL AND s.expires_at > ? AND u.disabled = 0",
        (token_hash(token), _stamp(now())))
    if not rows:
        return None
    return Session(_user(rows[0]), rows[0]["csrf_token"], rows[0]["token_hash"])


def end_session(store: Store, session: Session) -> None:
    with store.transaction() as connection:
        connection.execute("UPDATE sessions SET ended_at = ? WHERE token_hash = ?",
                           (_stamp(now()), session.token_hash))


# -- checks and submissions ---------------------------------------------------------------------

def new_check(store: Store, user: User, file_name: str, file_format: str, language: str) -> str:
    check_id = secrets.token_urlsafe(12)
    with store.transaction() as connection:
        connection.execute(
            "INSERT INTO checks (check_id, user_id, country, file_name, file_format, status, language, "
            "created_at) VALUES (?, ?, ?, ?, ?, 'checking', ?, ?)",
            (check_id, user.user_id, user.country, file_name, file_format, language, _stamp(now())))
    return check_id


def finish_check(store: Store, check_id: str, *, status: str, sha256: str | None, file_country: str | None,
                 errors: int, warnings: int, report_dir: str | None) -> None:
    with store.transaction() as connection:
        connection.execute(
            "UPDATE checks SET status = ?, sha256 = ?, file_country = ?, errors = ?, warnings = ?, "
            "report_dir = ? WHERE check_id = ?",
            (status, sha256, file_country, errors, warnings, report_dir, check_id))


def mark_submitted(store: Store, check_id: str, entry_name: str) -> bool:
    """Record that a check's file went into the inbox; False when it already had."""
    with store.transaction() as connection:
        changed = connection.execute(
            "UPDATE checks SET submitted_at = ?, submitted_as = ? WHERE check_id = ? AND submitted_at IS NULL",
            (_stamp(now()), entry_name, check_id)).rowcount
    return changed == 1


def find_check(store: Store, check_id: str) -> sqlite3.Row | None:
    rows = store.query("SELECT * FROM checks WHERE check_id = ?", (check_id,))
    return rows[0] if rows else None


def checks_of(store: Store, user: User, limit: int = 50) -> list[sqlite3.Row]:
    """The latest checks the user may see: their country's (the data team's: all)."""
    if user.is_team:
        return store.query("SELECT * FROM checks ORDER BY created_at DESC LIMIT ?", (limit,))
    return store.query("SELECT * FROM checks WHERE country = ? ORDER BY created_at DESC LIMIT ?",
                       (user.country, limit))


def prune_checks(store: Store, older_than: dt.timedelta, checks_dir: Path) -> int:
    """Delete the uploaded file and report of every check older than `older_than` (a
    submitted file is kept by the ingestion's archive); their rows stay, marked removed."""
    import shutil

    cutoff = _stamp(now() - older_than)
    rows = store.query("SELECT check_id FROM checks WHERE created_at < ? AND removed_at IS NULL", (cutoff,))
    for row in rows:
        shutil.rmtree(checks_dir / row["check_id"], ignore_errors=True)
        with store.transaction() as connection:
            connection.execute("UPDATE checks SET removed_at = ?, report_dir = NULL WHERE check_id = ?",
                               (_stamp(now()), row["check_id"]))
    return len(rows)


# -- the audit log ------------------------------------------------------------------------------

def audit(store: Store, event: str, outcome: str, *, user: User | None = None, email: str | None = None,
          object: str | None = None, detail: str | None = None, client: str | None = None) -> None:
    with store.transaction() as connection:
        connection.execute(
            "INSERT INTO audit VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (_stamp(now()), event, user.email if user else email, user.country if user else None,
             object, outcome, detail, client))


def audit_entries(store: Store, limit: int = 200) -> list[sqlite3.Row]:
    return store.query("SELECT * FROM audit ORDER BY rowid DESC LIMIT ?", (limit,))
