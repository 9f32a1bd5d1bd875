from hypothesis import given
from hypothesis import strategies as st

from wegweiser.statistics.disclosure import SUPPRESSED, suppress


@given(count=st.integers(min_value=0, max_value=10_000), threshold=st.integers(min_value=1, max_value=20))
def test_small_counts_are_never_published(count: int, threshold: int) -> None:
    value = suppress(count, threshold=threshold)
    if 0 < count < threshold:
        assert value == SUPPRESSED
    else:
        assert value == count
