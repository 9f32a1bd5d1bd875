"""The part of ``Idempotency-Key`` that intake and casework share: which keys count, and what "the same
request" means."""

from wegweiser.common.idempotency import request_digest, valid_key


def test_a_key_is_one_to_two_hundred_printable_characters() -> None:
    assert valid_key("a") and valid_key("x" * 200) and valid_key("Buchung 2026-12-05 #1")
    assert not valid_key("") and not valid_key("x" * 201) and not valid_key("a\nb")


def test_the_digest_tells_method_path_and_body_apart() -> None:
    digest = request_digest("POST", "/v1/cases", b'{"a": 1}')
    assert digest == request_digest("POST", "/v1/cases", b'{"a": 1}')
    others = {
        request_digest("PUT", "/v1/cases", b'{"a": 1}'),
        request_digest("POST", "/v1/arrivals", b'{"a": 1}'),
        request_digest("POST", "/v1/cases", b'{"a": 2}'),
    }
    assert digest not in others and len(others) == 3
