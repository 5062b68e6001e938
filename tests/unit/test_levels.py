import pytest

from diagnostics.levels import Levels, judge
from diagnostics.model import ModelError, Severity

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    "value, sev, words",
    [
        (-5.0, Severity.OK, "rx_power -5.0 dBm"),
        (-10.0, Severity.WARN, "warn at or below -10.0 dBm"),
        (-12.9, Severity.WARN, "warn at or below -10.0 dBm"),
        (-13.0, Severity.CRIT, "crit at or below -13.0 dBm"),
        (-40.0, Severity.CRIT, "crit at or below -13.0 dBm"),
    ],
)
def test_lower_levels_with_negative_values(value, sev, words):
    j = judge(value, "rx_power", unit="dBm", lower=Levels(warn=-10.0, crit=-13.0))
    assert j.severity is sev
    assert words in j.text
    assert (j.metric.warn, j.metric.crit, j.metric.direction) == (-10.0, -13.0, "lower")


def test_upper_levels_and_no_reading():
    assert judge(85.0, "used", unit="%", upper=Levels(80, 90)).severity is Severity.WARN
    assert judge(95.0, "used", unit="%", upper=Levels(80, 90)).severity is Severity.CRIT
    assert judge(None, "used", upper=Levels(80, 90)).severity is Severity.UNKNOWN


def test_both_directions_take_the_worst():
    j = judge(75.0, "temp", unit="C", upper=Levels(70, 80), lower=Levels(-5, -10))
    assert j.severity is Severity.WARN


def test_inverted_levels_are_refused():
    with pytest.raises(ModelError):
        judge(1.0, "x", upper=Levels(warn=10, crit=5))
    with pytest.raises(ModelError):
        judge(1.0, "x", lower=Levels(warn=-13, crit=-10))
