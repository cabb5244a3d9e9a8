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
