"""Settings of every `glotip` command: one config file (`glotip.toml`), then `GLOTIP_*`
environment variables, then the command's own flags.

Precedence, last wins: built-in defaults (the demo's: `glotip ingest` on sample_submissions),
the `[ingest]` table of the config file, for the scheduled deployment its `[deployment]` table,
then environment variables; an explicit command-line flag always wins (`with_flags`). The
config file is `glotip.toml` in the current folder, or the file named by `GLOTIP_CONFIG`; a
missing file means the defaults.

The `[limits]` table (and `GLOTIP_LIMITS_<NAME>` variables, e.g. `GLOTIP_LIMITS_FILE_BYTES`)
sets the limits every file is read within (`schemas/limits.py`); they are passed down
explicitly, never read from anywhere else.

`move_processed` is off by default: the demo inbox (sample_submissions/) must never be
emptied. The deployment turns it on for its own inbox.

`portal_url` and `attach_report` say what each report's message.eml carries
(reporting/notice.py): the link to the report in the submitters' portal, and (only when the data
team turns it on) the report files attached.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

from reporting.notice import DEFAULT_PORTAL_URL, Notice
from schemas.limits import Limits

CONFIG_FILE = Path("glotip.toml")


@dataclass(frozen=True)
class Settings:
    inbox: str = "sample_submissions"
    db: str = "var/glotip.duckdb"
    reports: str = "var/reports"
    archive: str = "var/archive"
    move_processed: bool = False  # delete an entry from the inbox once its outcome is recorded
    settle_seconds: float = 2.0  # an entry must be unchanged this long before it is read
    # how long a step waits for its turn at the warehouse file (another run's step, an import,
    # an analyst's `glotip sql --live`); then the entry is left for the next run
    warehouse_wait_seconds: float = 120.0
    # solver time for the secondary suppression of one release (`glotip report`); past it the
    # safe fallback: every cell linked to a small count hidden (reporting/disclosure.py)
    suppression_seconds: float = 120.0
    # where focal points reach the submitters' portal (`glotip portal`): the e-mail's link
    portal_url: str = DEFAULT_PORTAL_URL
    # attach report.html, findings.csv and annotated.xlsx to the e-mail too (off: confidentiality)
    attach_report: bool = False
    # the scheduled deployment (`glotip serve`)
    deployment_name: str = "scheduled-ingestion"
    cron: str = "*/15 * * * *"
    timezone: str = "UTC"
    limits: Limits = field(default_factory=Limits)  # the `[limits]` table

    def flow_parameters(self) -> dict:
        return {"inbox": self.inbox, "db_path": self.db, "reports_dir": self.reports,
                "archive_dir": self.archive, "move_processed": self.move_processed,
                "settle_seconds": self.settle_seconds, "warehouse_wait_seconds": self.warehouse_wait_seconds,
                "limits": asdict(self.limits), "portal_url": self.portal_url,
                "attach_report": self.attach_report}

    def notice(self) -> Notice:
        """What a report's message.eml carries; a `portal_url` that is no http(s) address is
        a ValueError."""
        return Notice(self.portal_url, self.attach_report)

    def with_flags(self, **flags) -> Settings:
        """These settings with each flag the user gave (not None) taking precedence."""
        return replace(self, **{name: value for name, value in flags.items() if value is not None})


def load_settings(deployment: bool = False, config: str | Path | None = None,
                  environ: dict | None = None) -> Settings:
    environ = os.environ if environ is None else environ
    path = Path(config or environ.get("GLOTIP_CONFIG") or CONFIG_FILE)
    table: dict = {}
    limits_table: dict = {}
    if path.is_file():
        document = tomllib.loads(path.read_text(encoding="utf-8"))
        table.update(document.get("ingest", {}))
        if deployment:
            table.update(document.get("deployment", {}))
        limits_table.update(document.get("limits", {}))
    settings = Settings()
    known = {f.name: f for f in fields(Settings) if f.name != "limits"}
    values = _given(table, known, environ, "GLOTIP_", f"{path}: unknown setting(s)")
    values["limits"] = load_limits(limits_table, environ, path)
    settings = replace(settings, **values)
    settings.notice()  # a bad portal_url stops the command here, before any file is read
    return settings


def load_table(name: str, known: dict, config: str | Path | None = None,
               environ: dict | None = None) -> dict:
    """Another command's own table of the config file (`[portal]`), then `GLOTIP_<NAME>_<KEY>`
    variables, typed by `known` (a dataclass's fields by name); only the values given."""
    environ = os.environ if environ is None else environ
    path = Path(config or environ.get("GLOTIP_CONFIG") or CONFIG_FILE)
    table = tomllib.loads(path.read_text(encoding="utf-8")).get(name, {}) if path.is_file() else {}
    values = _given(table, known, environ, f"GLOTIP_{name.upper()}_", f"{path} [{name}]: unknown setting(s)")
    bad = sorted(key for key, value in values.items() if value <= 0)
    if bad:
        raise ValueError(f"{path} [{name}]: {', '.join(bad)} must be above zero")
    return values


def load_limits(table: dict, environ: dict, path: Path) -> Limits:
    """The `[limits]` table, then `GLOTIP_LIMITS_<NAME>` variables, over the defaults."""
    known = {f.name: f for f in fields(Limits)}
    values = _given(table, known, environ, "GLOTIP_LIMITS_", f"{path} [limits]: unknown limit(s)")
    bad = sorted(name for name, value in values.items() if value <= 0)
    if bad:
        raise ValueError(f"{path} [limits]: {', '.join(bad)} must be above zero")
    return Limits(**values)


def _given(table: dict, known: dict, environ: dict, prefix: str, unknown_message: str) -> dict:
    """The values a config table gives, then those of `<prefix><NAME>` variables, typed; a
    name the table does not know is an error that lists the known ones."""
    unknown = sorted(set(table) - set(known))
    if unknown:
        raise ValueError(f"{unknown_message} {', '.join(unknown)}; known: {', '.join(known)}")
    values = {name: _typed(known[name].type, value, name) for name, value in table.items()}
    for name in known:
        variable = f"{prefix}{name.upper()}"
        if variable in environ:
            values[name] = _typed(known[name].type, environ[variable], variable)
    return values


def _typed(kind: str, value, name: str):
    if kind == "bool":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off", ""):
            return False
        raise ValueError(f"{name}: `{value}` is not true or false")
    if kind == "float":
        return float(value)
    if kind == "int":
        return int(str(value).replace("_", "")) if not isinstance(value, int) else value
    return str(value)
