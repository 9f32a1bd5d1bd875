"""The subject access document: German section titles unless English is asked for first."""

import datetime as dt
import uuid

import pytest

from wegweiser.common import subject_access as sar


@pytest.mark.parametrize(
    ("header", "english"),
    [(None, False), ("de", False), ("en", True), ("en-GB,de;q=0.5", True), ("de-DE,en;q=0.8", False)],
)
def test_english_only_when_asked_for_first(header: str | None, english: bool) -> None:
    assert sar.wants_english(header) is english


def test_document_is_versioned_and_titles_follow_the_language() -> None:
    person, case = uuid.uuid4(), uuid.uuid4()
    now = dt.datetime(2026, 12, 5, 8, 0, tzinfo=dt.UTC)
    titles = {"goals": ("Ziele", "Goals")}
    german = sar.document(
        service="x", person_id=person, sections={"goals": [1]}, titles=titles, english=False, now=now
    )
    english = sar.document(
        service="x",
        person_id=None,
        case_id=case,
        sections={"goals": []},
        titles=titles,
        english=True,
        now=now,
    )
    assert german == {
        "schema": "wegweiser.subject-access.v1",
        "service": "x",
        "person_id": str(person),
        "generated_at": "2026-12-05T08:00:00+00:00",
        "language": "de",
        "sections": {"Ziele": [1]},
    }
    assert (english["person_id"], english["case_id"], english["sections"]) == (None, str(case), {"Goals": []})
