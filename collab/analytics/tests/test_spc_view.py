import datetime as dt

import pytest

from collab.analytics.spc_view import SpcParamError, parse

TODAY = dt.date(2026, 11, 25)


def test_defaults_are_a_year_of_weeks_of_national_data():
    p = parse({}, today=TODAY)
    assert (p["source"], p["grain"], p["date_to"], p["baseline"], p["rebase_at"]) == ("agp_daily", "week", TODAY, None, [])
    assert (TODAY - p["date_from"]).days == 364


def test_baseline_rebase_and_target_are_read():
    p = parse({"baseline": "20", "rebase": "30,45", "target": "95.5", "improvement": "up"}, today=TODAY)
    assert (p["baseline"], p["rebase_at"], p["target"], p["improvement"]) == (20, [30, 45], 95.5, "up")


@pytest.mark.parametrize(
    ("params", "field"),
    [({"source": "nope"}, "source"), ({"grain": "year"}, "grain"), ({"baseline": "1"}, "baseline"),
     ({"baseline": "x"}, "baseline"), ({"rebase": "a,b"}, "rebase"), ({"target": "lots"}, "target"),
     ({"from": "2026-02-30"}, "from"), ({"from": "2026-11-30", "to": "2026-11-01"}, "from"),
     ({"improvement": "sideways"}, "improvement")],
)
def test_bad_parameters_name_the_field(params, field):
    with pytest.raises(SpcParamError) as e:
        parse(params, today=TODAY)
    assert e.value.param == field
