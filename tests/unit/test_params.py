import pytest

from podyard.api.params import decode_body, decode_query
from podyard.domain.errors import InvalidArgument


def test_flattened_filters_as_the_sdk_sends_them() -> None:
    q = decode_query(
        "pageSize=10&filters.1.name=phase&filters.1.values.1=running&filters.1.values.2=stopped&filters.2.name=name&filters.2.values.1=web"
    )
    assert q == {
        "pageSize": "10",
        "filters": [{"name": "phase", "values": ["running", "stopped"]}, {"name": "name", "values": ["web"]}],
    }


def test_percent_decoding() -> None:
    assert decode_query("filters.1.name=name&filters.1.values.1=%E4%B8%AD+x") == {
        "filters": [{"name": "name", "values": ["中 x"]}]
    }


@pytest.mark.parametrize(
    "raw", ["a=1&a=2", "a=1&a.1=2", "filters.0.name=x", "1=x", "a..b=1", "filters.1=x&filters.name=y"]
)
def test_malformed_queries(raw: str) -> None:
    with pytest.raises(InvalidArgument):
        decode_query(raw)


def test_a_unicode_digit_is_a_name_not_an_index() -> None:
    # "³".isdigit() is true and int("³") fails: it was a 500 (found by tests/api/test_openapi.py).
    assert decode_query("%C2%B3=null&filters.%E2%91%A0.name=x") == {"³": "null", "filters": {"①": {"name": "x"}}}


def test_bodies() -> None:
    assert decode_body(b"") == {}
    assert decode_body(b'{"a": 1}') == {"a": 1}
    for bad in (b"{", b"[1]", b"null", b"\xff\xfe", b"[" * 100_000, b'{"a":' * 100_000):
        with pytest.raises(InvalidArgument):
            decode_body(bad)
