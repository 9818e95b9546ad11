"""The key rules' two executions (numpy, DuckDB) give the same answers on random tables.

`schemas.totals.failing_totals` and the duplicate-key check run either on numpy over the key's
codes or as SQL in DuckDB, chosen by size (`duckdb_rows`). These properties hold them equal:
on random frames (NA in the key, missing parts, complete and incomplete breakdowns, counts
known within bounds, repeated keys), and on random submissions through `validate_submission`,
findings included.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas.keys import has_duplicates, has_duplicates_duckdb, key_codes
from schemas.totals import failing_totals
from schemas.validate import validate_submission
from tests.builders import csv_submission
from transforms.prepare import prepare_submission

NA = None
SEX = ["total", "female", "male", "other", NA]
AGE = ["total", "child", "adult", "excluded", NA]
KEY = ["year", "sex", "age"]


@st.composite
def frames(draw):
    rows = draw(st.lists(st.tuples(
        st.sampled_from([2020, 2021, NA]), st.sampled_from(SEX), st.sampled_from(AGE),
        st.integers(0, 12), st.integers(0, 4)), max_size=40))
    frame = pd.DataFrame({
        "year": pd.array([r[0] for r in rows], dtype="Int64"),
        "sex": pd.array([r[1] for r in rows], dtype="str"),
        "age": pd.array([r[2] for r in rows], dtype="str"),
        "low": pd.array([r[3] for r in rows], dtype="Int64"),
        "high": pd.array([r[3] + r[4] for r in rows], dtype="Int64"),
        "_line": range(2, len(rows) + 2),
    })
    return frame.iloc[draw(st.permutations(range(len(rows))))] if rows else frame


@settings(deadline=None, max_examples=300)
@given(frame=frames(), bounds=st.booleans(), complete=st.sampled_from([None, 2, 3, 4]),
       not_parts=st.booleans())
def test_failing_totals_executions_agree(frame, bounds, complete, not_parts):
    arguments = dict(key=KEY, dimensions=["sex", "age"], low="low", high="high" if bounds else None,
                     not_parts={"age": ["excluded"]} if not_parts else None,
                     complete={"sex": complete, "age": complete})
    on_numpy = failing_totals(frame, duckdb_rows=None, **arguments)
    assert failing_totals(frame, duckdb_rows=0, **arguments) == on_numpy
    assert failing_totals(frame, codes=key_codes(frame, KEY), **arguments) == on_numpy


@settings(deadline=None, max_examples=200)
@given(frame=frames())
def test_duplicate_key_executions_agree(frame):
    expected = bool((frame.duplicated(KEY, keep=False) & frame[KEY].notna().all(axis=1)).any())
    codes = key_codes(frame, KEY)
    assert has_duplicates([codes[c] for c in KEY]) == expected
    assert has_duplicates_duckdb(frame, KEY) == expected


VICTIMS_ROWS = st.lists(st.tuples(
    st.sampled_from(["2021", "2022", "", "20x1"]), st.sampled_from(["total", "female", "male", "other", "unknown", ""]),
    st.sampled_from(["total", "child", "adult", "unknown"]), st.sampled_from(["total", "forced_labour"]),
    st.sampled_from(["total", "NGA", "THA"]), st.sampled_from(["0", "1", "3", "7", "12", "<5", ""])),
    min_size=1, max_size=30).map(lambda rows: [",".join(row) for row in rows])


@settings(deadline=None, max_examples=40, suppress_health_check=[HealthCheck.too_slow])
@given(rows=VICTIMS_ROWS)
def test_validate_submission_executions_agree(rows):
    with tempfile.TemporaryDirectory() as folder:
        parsed = prepare_submission(csv_submission(Path(folder) / "THA", rows))
    on_numpy = validate_submission(parsed, duckdb_rows=None)
    in_duckdb = validate_submission(parsed, duckdb_rows=0)
    assert in_duckdb.findings == on_numpy.findings
    assert set(in_duckdb.tables) == set(on_numpy.tables)
    for name, table in on_numpy.tables.items():
        pd.testing.assert_frame_equal(in_duckdb.tables[name], table)


def test_random_submissions_reach_the_rules():
    """The generator above is not vacuous: such rows do give both rules' findings."""
    rows = ["2021,total,total,total,total,5", "2021,female,total,total,total,4",
            "2021,male,total,total,total,3", "2022,male,total,total,total,3",
            "2022,male,total,total,total,3"]
    with tempfile.TemporaryDirectory() as folder:
        parsed = prepare_submission(csv_submission(Path(folder) / "THA", rows))
    for duckdb_rows in (None, 0):
        rules = {f.rule for f in validate_submission(parsed, duckdb_rows=duckdb_rows).findings}
        assert {"duplicate-key", "parts-exceed-total"} <= rules
