"""The analytics cache key is derived from the settings, not listed: every setting the
analytics read changes it, the presentation's do not, and a changed [inventory] or
[commercial] setting is never answered from the entry of the old one (issue #27, fault 1)."""

from __future__ import annotations

import dataclasses
import typing

import pandas as pd
import pytest
from pack_support import MONTH, build_demo_database

from kamlab import chain
from kamlab.chain.cache import PRESENTATION_SETTINGS
from kamlab.cli import main
from kamlab.config import DEFAULTS, Settings


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    return build_demo_database(tmp_path_factory.mktemp("key"), customers=3)


def _another(value):
    """A value of the same shape as `value` but different (validity does not matter here)."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, float):
        return value / 2 if value else 0.5
    if isinstance(value, str):
        return value + "x"
    if value is None:
        return 1
    if isinstance(value, tuple):
        return (*value[:-1], _another(value[-1])) if value else (1,)
    if isinstance(value, dict):
        return {**value, "ZZZ": 1.0}
    raise TypeError(type(value))


def _every_setting(settings: Settings):
    for section in dataclasses.fields(settings):
        values = getattr(settings, section.name)
        if dataclasses.is_dataclass(values):
            for key in typing.get_type_hints(type(values)):
                yield section.name, key


def _changed(settings: Settings, section: str, key: str) -> Settings:
    values = getattr(settings, section)
    changed = dataclasses.replace(values, **{key: _another(getattr(values, key))})
    return dataclasses.replace(settings, **{section: changed})


def test_every_analytics_setting_changes_the_key_and_no_presentation_setting_does(database):
    key = chain.analytics_key(database, MONTH, DEFAULTS)
    analytics, presentation = [], []
    for section, name in _every_setting(DEFAULTS):
        other = chain.analytics_key(database, MONTH, _changed(DEFAULTS, section, name))
        if section in PRESENTATION_SETTINGS:
            assert other == key, (section, name)
            presentation.append(name)
        else:
            assert other != key, (section, name)
            analytics.append(name)
    assert {"cycle_service_level", "price_tolerance", "horizon", "fx_rates"} <= set(analytics)
    assert len(analytics) > 80 and {"workers", "paper", "max_megabytes"} <= set(presentation)
    mapped = dataclasses.replace(DEFAULTS, mapping={"orders": {"VBELN": "order_id"}})
    assert chain.analytics_key(database, MONTH, mapped) == key  # the data's bytes cover it


def test_a_changed_inventory_or_commercial_setting_is_never_served_the_old_entry(
    database, tmp_path
):
    """The reported case: cycle_service_level 0.5 and price_tolerance 0.2 after a pack."""
    cache = tmp_path / "cache"
    before = chain.load_analytics(database, MONTH, settings=DEFAULTS, cache_dir=cache)
    changed = dataclasses.replace(
        DEFAULTS,
        inventory=dataclasses.replace(DEFAULTS.inventory, cycle_service_level=0.5),
        commercial=dataclasses.replace(DEFAULTS.commercial, price_tolerance=0.2),
    )
    chain.cache._MEMORY.clear()  # a new pack process: only the disk cache is left
    after = chain.load_analytics(database, MONTH, settings=changed, cache_dir=cache)
    assert len(list(cache.glob("analytics-*"))) == 2  # a second entry, not the first reused
    assert after.settings.inventory.cycle_service_level == 0.5
    safety = "recommended_safety_stock"
    assert after.safety_stock[safety].sum() < before.safety_stock[safety].sum()
    assert not before.price_audit.equals(after.price_audit)
    pd.testing.assert_frame_equal(after.demand, before.demand)  # the rest is the same


def test_an_invalid_setting_with_an_entry_present_is_bad_input(database, tmp_path, monkeypatch):
    """The entry of the valid settings is there; 1.5 must still be refused, not packed."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("KAMLAB_CACHE", str(cache))
    chain.load_analytics(database, MONTH, settings=DEFAULTS, cache_dir=cache)
    config = tmp_path / "kamlab.toml"
    config.write_text("[inventory]\ncycle_service_level = 1.5\n")
    argv = ["pack", "--month", MONTH, "--source", str(database), "--config", str(config)]
    assert main([*argv, "--reports", str(tmp_path / "reports")]) == 2
    assert not (tmp_path / "reports").exists()
