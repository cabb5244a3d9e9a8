"""kamlab.toml is checked by type and allowed values; every mistake is one line and exit 2."""

import pytest

from kamlab.chain import resolve_settings
from kamlab.cli import main
from kamlab.config import DEFAULTS, SettingsError, load_settings

BAD = {
    "toml syntax": (
        "[pack]\nworkers = \n",
        r"kamlab.toml: not valid TOML: .*line 2",
    ),
    "section not a table": (
        "receivables = 5\n",
        r"kamlab.toml: \[receivables\] must be a table .* got receivables = 5",
    ),
    "unknown section": (
        "[recievables]\nbasis = 'due_date'\n",
        r"kamlab.toml: unknown section \[recievables\]; known: \[.*'receivables'",
    ),
    "unknown key": (
        "[pack]\nwokers = 2\n",
        r"kamlab.toml \[pack\]: unknown key\(s\) \['wokers'\]; known: \[.*'workers'\]",
    ),
    "bool for a number": (
        "[pack]\nworkers = true\n",
        r"kamlab.toml \[pack\] workers: expected a whole number, got true",
    ),
    "texts for numbers": (
        '[receivables]\nbucket_edges = ["a", "b"]\n',
        r"kamlab.toml \[receivables\] bucket_edges: expected a list of whole numbers, "
        r'got \["a", "b"\]',
    ),
    "unknown encoding": (
        '[formats]\nencoding = "utf-99"\n',
        r"kamlab.toml \[formats\] encoding: allowed an encoding Python knows.*; got \"utf-99\"",
    ),
    "value not allowed": (
        '[receivables]\nbasis = "due"\n',
        r"\[receivables\] basis: allowed 'due_date' or 'posting_date'; got \"due\"",
    ),
    "edges not increasing": (
        "[receivables]\nbucket_edges = [0, 60, 30]\n",
        r"\[receivables\] bucket_edges: allowed increasing whole days starting at 0",
    ),
    "infinite number": (
        "[scorecard]\namber_margin = inf\n",
        r"\[scorecard\] amber_margin: expected a finite number, got inf",
    ),
    "mapping not a table": (
        "[mapping]\norders = 5\n",
        r"\[mapping.orders\]: expected a table of .*, got 5",
    ),
}


@pytest.mark.parametrize("case", BAD)
def test_a_bad_setting_is_one_line_naming_file_key_allowed_and_given(case, tmp_path, capsys):
    text, message = BAD[case]
    path = tmp_path / "kamlab.toml"
    path.write_text(text)
    with pytest.raises(SettingsError, match=message) as info:
        load_settings(path)
    assert "\n" not in str(info.value) and str(path) in str(info.value)
    assert main(["pack", "--month", "2025-06", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err and str(path) in err


def test_a_missing_config_file_is_named():
    with pytest.raises(SettingsError, match=r"nope.toml: no such settings file"):
        resolve_settings("nope.toml")


def test_good_values_are_shaped_like_the_defaults(tmp_path):
    path = tmp_path / "kamlab.toml"
    path.write_text(
        "[receivables]\nbucket_edges = [0, 15, 45]\ncredit_warning = 1\n"
        "[classify]\nattractiveness_weights = { revenue = 0.5 }\n"
        '[formats]\nencoding = "cp1252"\ndecimal = ","\nthousands = "."\n'
        "[scorecard]\nfx_rates = { USD = 0.9 }\n"
    )
    s = load_settings(path)
    assert s.receivables.bucket_edges == (0, 15, 45)
    assert s.receivables.credit_warning == 1.0 and isinstance(s.receivables.credit_warning, float)
    assert s.classify.attractiveness_weights == {
        **DEFAULTS.classify.attractiveness_weights,
        "revenue": 0.5,
    }
    assert s.formats.encoding == "cp1252" and s.scorecard.fx_rates == {"USD": 0.9}


# the out-of-range settings: each once past the type check, now refused by its range
OUT_OF_RANGE = {
    "[forecast]\nhorizon = 0": "horizon: allowed 1 or more; got 0",
    "[forecast]\nseason_length = 0": "season_length: allowed 1 or more; got 0",
    "[inventory]\ncycle_service_level = 1.5": "cycle_service_level: allowed a probability",
    '[inventory]\nservice_measure = "foo"': "service_measure: allowed 'cycle' or 'fill_rate'",
    "[inventory]\nfill_rate = 2": "fill_rate: allowed a probability",
    '[commercial]\npricing_date = "foo"': "pricing_date: allowed one of 'billing_date'",
    "[commercial]\nwindow_months = 0": "window_months: allowed 1 or more; got 0",
    "[scorecard]\nfx_rates = { USD = -0.9 }": "fx_rates: allowed exchange rates, each more than 0",
    "[scorecard]\nfx_rates = { USD = 0 }": "fx_rates: allowed exchange rates, each more than 0",
}


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    from pack_support import build_demo_database

    return build_demo_database(tmp_path_factory.mktemp("range"), customers=2)


@pytest.mark.parametrize("text", OUT_OF_RANGE)
def test_a_setting_out_of_range_stops_the_pack_before_any_analytics_with_one_line(
    text, database, tmp_path, capsys, monkeypatch
):
    path = tmp_path / "kamlab.toml"
    path.write_text(text + "\n")
    cache = tmp_path / "cache"
    monkeypatch.setenv("KAMLAB_CACHE", str(cache))
    argv = ["pack", "--month", "2025-06", "--config", str(path), "--source", str(database)]
    assert main([*argv, "--reports", str(tmp_path / "reports")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert OUT_OF_RANGE[text] in err and str(path) in err
    assert not cache.exists() and not (tmp_path / "reports").exists()  # nothing ran


def test_settings_built_in_code_are_held_to_the_same_ranges():
    import dataclasses

    bad = dataclasses.replace(
        DEFAULTS, inventory=dataclasses.replace(DEFAULTS.inventory, cycle_service_level=1.5)
    )
    with pytest.raises(SettingsError, match=r"\[inventory\] cycle_service_level: allowed"):
        resolve_settings(bad)
    assert resolve_settings(DEFAULTS) is DEFAULTS


def test_every_setting_keeps_its_own_rules_by_default():
    """The defaults themselves keep the declared rules (a rule that refuses its default is wrong)."""
    from kamlab.config import check_settings

    assert check_settings(DEFAULTS) is DEFAULTS
