"""Within a table, parts against totals for every dimension; across tables, the submission
sheet's country against the rows (repatriated victims are detected abroad)."""

from __future__ import annotations

from schemas.messages import render_location, render_message

import pytest

from schemas.validate import validate_submission
from transforms.prepare import prepare_submission
from tests.builders import csv_submission


def findings(folder):
    return sorted((f.rule, render_location(f.location)) for f in validate_submission(prepare_submission(folder)).findings)


@pytest.mark.parametrize(("parts", "dimension"), [
    (["2021,total,child,total,total,8", "2021,total,adult,total,total,5"], "age"),
    (["2021,total,total,forced_labour,total,8", "2021,total,total,sexual_exploitation,total,5"], "form"),
    (["2021,total,total,total,MMR,8", "2021,total,total,total,KHM,5"], "citizenship"),
    (["2021,female,total,total,total,8", "2021,male,total,total,total,5"], "sex"),
])
def test_parts_exceeding_the_total_in_each_dimension(tmp_path, parts, dimension):
    folder = csv_submission(tmp_path / dimension, ["2021,total,total,total,total,10", *parts], years=(2021, 2021))
    result = validate_submission(prepare_submission(folder))
    assert [(f.rule, render_location(f.location), f.params["dimension"]) for f in result.findings] == [
        ("parts-exceed-total", "victims.csv, line 2, column 6", dimension)]
    # which cell to change: the total (13 or more), or either part alone, each listed
    [finding] = result.findings
    assert [[(c["line"], c["cell"], c["low"], c["high"]) for c in changes] for changes in finding.params["changes"]] == [
        [(2, None, 13, None)], [(3, None, 0, 5)], [(4, None, 0, 2)]]
    assert finding.params["part_lines"] == [3, 4]


def test_complete_age_parts_that_differ_from_the_total_are_a_warning(tmp_path):
    folder = csv_submission(tmp_path / "s", ["2021,total,total,total,total,10", "2021,total,child,total,total,3",
                                             "2021,total,adult,total,total,4", "2021,total,unknown,total,total,1"],
                            years=(2021, 2021))
    assert findings(folder) == [("parts-differ-from-total", "victims.csv, line 2, column 6")]
    [finding] = validate_submission(prepare_submission(folder)).findings
    assert render_message(finding).endswith(
        "The fewest cells to change: change line 2 from 10 to 8, change line 3 from 3 to 5, change line 4 "
        "from 4 to 6, or change line 5 from 1 to 3.")


def test_repatriated_from_the_submitting_country_is_a_warning(tmp_path):
    repatriated = ["year,country_of_detection,sex,age,count", "2021,MYS,total,total,4",
                   "2021,Thailand,total,total,2"]
    folder = csv_submission(tmp_path / "s", ["2021,total,total,total,total,10"], years=(2021, 2021),
                            extra={"repatriated": repatriated})
    result = validate_submission(prepare_submission(folder))
    assert [(f.rule, render_location(f.location), f.severity) for f in result.findings] == [
        ("repatriated-from-own-country", "repatriated.csv, line 3, column 2", "warning")]
    assert render_message(result.findings[0]) == ("These repatriated victims are reported as detected in the "
                                                  "submitting country itself (Thailand).")
