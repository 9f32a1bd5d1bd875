"""The indicator feed's messages: one per indicator, region and period with a value; changes only."""

from __future__ import annotations

import datetime as dt
import hashlib

from wegweiser.common import events
from wegweiser.statistics.geography import Region, RegionTree
from wegweiser.statistics.periods import PeriodRange
from wegweiser.statistics.publication.compute import Facts, Frame, all_families
from wegweiser.statistics.publication.disclosure import Publication, disclose
from wegweiser.statistics.publication.feed import feed_messages, message_fields, zero_message
from wegweiser.statistics.publication.publisher import frame_for
from wegweiser.statistics.settings import StatisticsSettings


def tree() -> RegionTree:
    t = RegionTree(land="99")
    t.add(Region("99", "Testland", "land", None))
    t.add(Region("991", "Bezirk", "regierungsbezirk", "99"))
    t.add(Region("99101", "Kreis", "kreis", "991"))
    for g in ("99101001", "99101002"):
        t.add(Region(g, f"Gemeinde {g}", "gemeinde", "99101"))
    return t


FRAME = Frame(tree(), PeriodRange(202401, 202412), dt.date(2024, 12, 31))


def arrivals(*rows: tuple[str, int, int]) -> Publication:
    return disclose(all_families(Facts(arrivals=list(rows)), FRAME), FRAME, threshold=5)


def test_only_keys_with_a_value_are_fed_and_municipal_months_only_on_request() -> None:
    pub = arrivals(("99101001", 202403, 7), ("99101002", 202403, 8))
    messages = feed_messages(pub, FRAME, threshold=5)
    assert "arrivals/99101001/2024" in messages and "arrivals/99101001/2024-Q1" in messages
    assert "arrivals/99101001/2024-03" not in messages  # municipalities by month: off by default
    assert "arrivals/99/2024-03" in messages
    assert "arrivals/99/2024-04" not in messages  # nothing happened: no message
    monthly = feed_messages(pub, FRAME, threshold=5, municipal_months=True)
    assert "arrivals/99101001/2024-03" in monthly
    _, content = messages["arrivals/99/2024"]
    assert content == ("arrivals", "99", "2024", {"total": 15}, {})


def test_the_digest_changes_with_a_value_and_with_the_threshold() -> None:
    before = feed_messages(arrivals(("99101001", 202403, 7)), FRAME, threshold=5)
    after = feed_messages(arrivals(("99101001", 202403, 8)), FRAME, threshold=5)
    same = feed_messages(arrivals(("99101001", 202403, 7)), FRAME, threshold=5)
    other_threshold = feed_messages(arrivals(("99101001", 202403, 7)), FRAME, threshold=6)
    key = "arrivals/99/2024"
    assert before[key][0] == same[key][0]
    assert before[key][0] != after[key][0]
    assert before[key][0] != other_threshold[key][0]


def test_a_message_validates_as_indicator_published() -> None:
    messages = feed_messages(arrivals(("99101001", 202403, 7)), FRAME, threshold=5)
    fields = message_fields(messages["arrivals/99101/2024-Q1"][1], FRAME)
    assert fields == {
        "indicator": "arrivals",
        "region": "99101",
        "region_level": "kreis",
        "region_name": "Kreis",
        "period": "2024-Q1",
        "period_level": "quarter",
        "values": {"total": 7},
        "suppressed_reasons": {},
        "unit": "count",
    }
    event = events.IndicatorPublished(
        **fields, threshold=5, generation=1, published_at=dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    )
    assert event.values == {"total": 7}


def test_a_key_that_lost_its_values_is_fed_as_zero() -> None:
    fields = zero_message("interpreter_use/99101/2024", FRAME)
    assert fields["values"] == {"total": 0, "with_interpreter": 0, "without_interpreter": 0, "share": None}
    assert fields["period_level"] == "year" and fields["region_level"] == "kreis"
    monthly = zero_message("arrivals/99101001/2024-03", FRAME)
    assert monthly["values"] == {"total": 0} and monthly["period_level"] == "month"


def test_the_publication_frame_is_this_land_up_to_today() -> None:
    frame = frame_for(StatisticsSettings(first_year=2020), dt.date(2025, 6, 3))
    assert frame.tree.land == "08" and frame.as_of == dt.date(2025, 6, 3)
    assert (frame.periods.first_month, frame.periods.last_month) == (202001, 202506)
    assert frame.month_ends[-1] == dt.date(2025, 6, 3).toordinal()  # the current month ends today
    assert frame.month_ends[-2] == dt.date(2025, 5, 31).toordinal()


def test_a_hidden_value_is_fed_with_its_reason() -> None:
    # 3 in the first municipality is too small; 8 in the second would give it away from the Kreis' 11.
    pub = arrivals(("99101001", 202403, 3), ("99101002", 202403, 8))
    messages = feed_messages(pub, FRAME, threshold=5)
    small = message_fields(messages["arrivals/99101001/2024-Q1"][1], FRAME)
    other = message_fields(messages["arrivals/99101002/2024-Q1"][1], FRAME)
    assert (small["values"], small["suppressed_reasons"]) == ({"total": "."}, {"total": "too_small"})
    assert (other["values"], other["suppressed_reasons"]) == ({"total": "."}, {"total": "protects_other"})
    kreis = message_fields(messages["arrivals/99101/2024-Q1"][1], FRAME)
    assert kreis["values"] == {"total": 11} and kreis["suppressed_reasons"] == {}
    event = events.IndicatorPublished(
        **small, threshold=5, generation=1, published_at=dt.datetime.now(dt.UTC)
    )
    assert event.suppressed_reasons == {"total": "too_small"}


def test_a_key_without_a_hidden_value_keeps_the_digest_it_had_before_reasons() -> None:
    """After the upgrade, only keys with a "." are sent again (now with their reasons)."""
    messages = feed_messages(arrivals(("99101001", 202403, 7)), FRAME, threshold=5)
    expected = hashlib.blake2b(b'{"total":7}' + b"5", digest_size=12).hexdigest()
    assert messages["arrivals/99/2024"][0] == expected
