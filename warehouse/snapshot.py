"""What analysts read: reference tables, a read-only snapshot, Parquet files and as-of views.

DuckDB allows one writing process or many reading ones, never both: an analyst holding the
warehouse open would block ingestion. So after each run the pipeline copies the warehouse to a
snapshot file, written under a temporary name and renamed over the old one (a rename is atomic:
a reader sees the old snapshot or the new one, never half of a load; a reader that still has
the old file open keeps reading it). Parquet files of every current table go to a new folder,
and a `parquet` symlink is switched to it the same way.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import uuid
from glob import escape as glob_escape
from pathlib import Path

import duckdb
import pandas as pd

from schemas.countries import REFERENCE_DIR, load_countries
from schemas.tables import TABLES
from warehouse.session import Warehouse, insert_frame, transaction
from warehouse.snapshot_files import (  # noqa: F401 - also imported from here, where they were
    ANALYST_DIR_NAME, AS_OF_SOURCE, PARQUET_LINK, SNAPSHOT_NAME, NoSnapshot, analyst_dir, existing_snapshot,
    existing_warehouse, open_snapshot, shared_layout_leftovers, snapshot_path, use_as_of)

PARQUET_VERSIONS_KEPT = 3
SHIPPED_POPULATION = REFERENCE_DIR / "population.csv"
BUILT_IN_GROUPINGS = {"m49": ("region", "subregion"), "glotip": ("glotip_region", "glotip_subregion")}
DEFAULT_GROUPING = "m49"

# The focal points' own contacts (the submission sheet's `contact` columns, as the register
# names them): kept in the warehouse for the data team, never in the analysts' snapshot, and so
# never in the Parquet files made from it.
CONTACT_COLUMNS = {"submissions": tuple(TABLES["submission"].columns_where("contact"))}
# Tables and views published as Parquet: the current views and the dimensions.
PARQUET_RELATIONS = {
    "victims": "SELECT * FROM victims",
    "offenders": "SELECT * FROM offenders",
    "repatriated": "SELECT * FROM repatriated",
    "organ_removal_cases": "SELECT * FROM organ_removal_cases",
    "flows": "SELECT * FROM flows",
    "flows_by_region": "SELECT * FROM flows_by_region",
    "countries": "SELECT * FROM countries",
    "country_regions": "SELECT * FROM country_regions",
    "region_groupings": "SELECT * FROM region_groupings",
    "population": "SELECT * FROM population",
    "current_country_years": "SELECT * FROM current_country_years",
    "submissions": "SELECT * FROM submissions",
}


# ------------------------------------------------------------------ reference tables

def refresh_reference_tables(connection: duckdb.DuckDBPyConnection) -> None:
    """Fill the country dimension and the built-in groupings from schemas/reference, choose the
    default grouping if none is chosen, and load the shipped population if none is loaded."""
    countries = load_countries()[["iso3", "iso2", "m49_code", "name", "official_name", "region",
                                  "subregion", "intermediate_region", "glotip_region",
                                  "glotip_subregion"]].astype(object)
    countries = countries.where(countries.notna() & (countries != ""), None)
    with transaction(connection):
        connection.execute("DELETE FROM dim_country")
        insert_frame(connection, "dim_country", countries)
        for grouping, (region, subregion) in BUILT_IN_GROUPINGS.items():
            connection.execute("DELETE FROM region_groupings WHERE grouping = ?", [grouping])
            connection.execute(
                f"INSERT INTO region_groupings SELECT ?, iso3, {region}, {subregion} "
                f"FROM dim_country WHERE {region} IS NOT NULL", [grouping])
        if not connection.execute("SELECT count(*) FROM active_grouping").fetchall()[0][0]:
            connection.execute("INSERT INTO active_grouping VALUES (?)", [DEFAULT_GROUPING])
        if (not connection.execute("SELECT count(*) FROM population").fetchall()[0][0]
                and SHIPPED_POPULATION.exists()):
            _insert_population(connection, read_population_file(SHIPPED_POPULATION))


def read_grouping_file(path: str | Path) -> pd.DataFrame:
    """A grouping file: CSV with columns country (ISO3), region and optionally subregion."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame.columns = [c.strip().lower() for c in frame.columns]
    missing = {"country", "region"} - set(frame.columns)
    if missing:
        raise ValueError(f"{path}: the grouping file needs the columns country, region "
                         f"(and optionally subregion); missing: {', '.join(sorted(missing))}")
    if "subregion" not in frame.columns:
        frame["subregion"] = ""
    frame = frame[["country", "region", "subregion"]].apply(lambda column: column.str.strip())
    frame["country"] = frame["country"].str.upper()
    known = set(load_countries()["iso3"])
    unknown = sorted(set(frame["country"]) - known)
    if unknown:
        raise ValueError(f"{path}: not ISO 3166-1 alpha-3 codes: {', '.join(unknown[:10])}")
    duplicated = sorted(frame.loc[frame["country"].duplicated(), "country"])
    if duplicated:
        raise ValueError(f"{path}: countries listed twice: {', '.join(duplicated[:10])}")
    if (frame["region"] == "").any():
        raise ValueError(f"{path}: every country needs a region")
    return frame.replace({"subregion": {"": None}})


def load_grouping(connection, name: str, frame: pd.DataFrame, activate: bool = False) -> int:
    """Store (or replace) the grouping `name`; make it the active one if asked."""
    if name in BUILT_IN_GROUPINGS:
        raise ValueError(f"`{name}` is a built-in grouping; choose another name")
    with transaction(connection):
        connection.execute("DELETE FROM region_groupings WHERE grouping = ?", [name])
        staged = frame.assign(grouping=name)[["grouping", "country", "region", "subregion"]]
        insert_frame(connection, "region_groupings", staged)
        if activate:
            _set_active(connection, name)
    return len(frame)


def activate_grouping(connection, name: str) -> None:
    known = [row[0] for row in connection.execute(
        "SELECT DISTINCT grouping FROM region_groupings ORDER BY 1").fetchall()]
    if name not in known:
        raise ValueError(f"no grouping `{name}`; known: {', '.join(known)}")
    _set_active(connection, name)


def _set_active(connection, name: str) -> None:
    connection.execute("DELETE FROM active_grouping")
    connection.execute("INSERT INTO active_grouping VALUES (?)", [name])


def read_population_file(path: str | Path) -> pd.DataFrame:
    """Population: CSV with columns country (ISO3), year, population and optionally source;
    the World Bank's download layout (Country Code, Year, Value) is accepted as well."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    renames = {"country code": "country", "value": "population"}
    frame.columns = [renames.get(c.strip().lower(), c.strip().lower()) for c in frame.columns]
    missing = {"country", "year", "population"} - set(frame.columns)
    if missing:
        raise ValueError(f"{path}: the population file needs the columns country, year, "
                         f"population (and optionally source); missing: {', '.join(sorted(missing))}")
    if "source" not in frame.columns:
        frame["source"] = Path(path).name
    frame = frame[frame["population"].str.strip() != ""]
    known = set(load_countries()["iso3"])
    frame = frame[frame["country"].isin(known)]  # drops aggregates such as WLD
    return pd.DataFrame({
        "country": frame["country"], "year": frame["year"].astype("int64"),
        "population": pd.to_numeric(frame["population"]).round().astype("int64"),
        "source": frame["source"]})


def load_population(connection, frame: pd.DataFrame) -> int:
    """Add population figures, replacing those already held for the same country and year."""
    with transaction(connection):
        _insert_population(connection, frame)
    return len(frame)


def _insert_population(connection, frame: pd.DataFrame) -> None:
    connection.register("staged_population", frame)
    connection.execute("DELETE FROM population WHERE (country, year) IN "
                       "(SELECT (country, year) FROM staged_population)")
    connection.execute("INSERT INTO population SELECT country, year, population, source "
                       "FROM staged_population")
    connection.unregister("staged_population")


# ------------------------------------------------------------------ publishing

def publish(warehouse: Warehouse) -> dict[str, str]:
    """Refresh the reference tables, then publish the snapshot and the Parquet files, all while
    the session holds the warehouse file: two runs side by side publish one after the other, so
    the `parquet` link never goes back to an older version. The session's connection is closed
    afterwards (closing checkpoints the file)."""
    try:
        refresh_reference_tables(warehouse.connection)
        snapshot = publish_snapshot(warehouse.connection, snapshot_path(warehouse.path))
        parquet = publish_parquet(snapshot, analyst_dir(warehouse.path))
    finally:
        warehouse.close()
    return {"snapshot": str(snapshot), "parquet": str(parquet)}


def publish_snapshot(connection, target: str | Path) -> Path:
    """Copy the warehouse, without the focal points' contacts, into a new file and rename it
    over `target`. Paths are bound as parameters and the database name quoted (a folder may be
    called `O'Brien`); on any failure (a full disk above all) the temporary file is removed, and
    the old snapshot stays."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_temporaries(target)
    temporary = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.tmp")
    alias = "snapshot_" + uuid.uuid4().hex[:8]
    source = connection.execute("SELECT current_database()").fetchall()[0][0]
    try:
        connection.execute(f"ATTACH ? AS {alias}", [str(temporary)])
        try:
            connection.execute(f"COPY FROM DATABASE {quote_identifier(source)} TO {alias}")
            for table, columns in CONTACT_COLUMNS.items():
                for column in columns:
                    connection.execute(f"ALTER TABLE {alias}.{table} DROP COLUMN {column}")
        finally:
            connection.execute(f"DETACH {alias}")
        os.replace(temporary, target)
    except BaseException:
        _remove_temporary(temporary)
        raise
    return target


def quote_identifier(name: str) -> str:
    """A name as a SQL identifier, whatever characters it holds."""
    return '"' + name.replace('"', '""') + '"'


def _remove_temporary(temporary: Path) -> None:
    for path in (temporary, temporary.with_name(temporary.name + ".wal")):
        path.unlink(missing_ok=True)


def _remove_stale_temporaries(target: Path) -> None:
    """Temporary snapshots of a publishing process that was killed (a publisher holds the
    warehouse file meanwhile: one at a time)."""
    for stale in target.parent.glob(f".{glob_escape(target.name)}.*.tmp*"):
        stale.unlink(missing_ok=True)


def publish_parquet(snapshot: str | Path, out_dir: str | Path) -> Path:
    """One Parquet file per current table, in a new folder the `parquet` link then points to."""
    out_dir = Path(out_dir)
    version = out_dir / f"parquet-{dt.datetime.now(dt.timezone.utc):%Y%m%dT%H%M%S%f}"
    version.mkdir(parents=True)
    try:
        with duckdb.connect(str(snapshot), read_only=True) as connection:
            for name, sql in PARQUET_RELATIONS.items():
                connection.execute(f"COPY ({sql}) TO ? (FORMAT parquet)", [str(version / f"{name}.parquet")])
    except BaseException:  # a full disk: no half version is left; the link keeps the last whole one
        shutil.rmtree(version, ignore_errors=True)
        raise
    link = out_dir / PARQUET_LINK
    temporary_link = out_dir / f".{PARQUET_LINK}.{uuid.uuid4().hex[:8]}"
    temporary_link.symlink_to(version.name, target_is_directory=True)
    os.replace(temporary_link, link)
    # Older versions may still be read by someone: keep a few.
    for old in sorted(out_dir.glob("parquet-*"))[:-PARQUET_VERSIONS_KEPT]:
        shutil.rmtree(old, ignore_errors=True)
    return link
