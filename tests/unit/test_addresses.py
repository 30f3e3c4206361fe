"""Address assignment in a subnet: given addresses checked, the rest the lowest free."""

from __future__ import annotations

import ipaddress

import pytest

from podyard.domain.errors import AlreadyExists, FailedPrecondition, InvalidArgument
from podyard.domain.network import AddressRequest, assign_addresses

CIDR = "10.9.0.0/28"  # .2 to .14 assignable


def _n(ip: str) -> int:
    return int(ipaddress.IPv4Address(ip))


def test_counted_secondaries_follow_each_primary() -> None:
    out = assign_addresses(CIDR, {_n("10.9.0.3")}, AddressRequest(count=2, secondary_count=2), "nic")
    assert out == [("10.9.0.2", ("10.9.0.4", "10.9.0.5")), ("10.9.0.6", ("10.9.0.7", "10.9.0.8"))]


def test_given_addresses_come_first_and_are_not_handed_out_again() -> None:
    want = AddressRequest(count=1, primary="10.9.0.4", secondaries=("10.9.0.2",), secondary_count=1)
    assert assign_addresses(CIDR, set(), want, "nic") == [("10.9.0.4", ("10.9.0.2", "10.9.0.3"))]


@pytest.mark.parametrize(
    ("want", "used", "error", "text"),
    [
        (AddressRequest(1, secondaries=("10.9.1.2",)), set(), InvalidArgument, "nic.secondaryIpAddresses[0]"),
        (AddressRequest(1, secondaries=("10.9.0.1",)), set(), InvalidArgument, "reserved"),
        (AddressRequest(1, primary="10.9.0.5", secondaries=("10.9.0.5",)), set(), InvalidArgument, "twice"),
        (AddressRequest(1, secondaries=("10.9.0.6",)), {_n("10.9.0.6")}, AlreadyExists, "in use"),
        (AddressRequest(1, secondary_count=13), set(), FailedPrecondition, "13 free address(es), 14 asked"),
    ],
)
def test_refusals_name_the_field(want: AddressRequest, used: set[int], error: type, text: str) -> None:
    with pytest.raises(error) as e:
        assign_addresses(CIDR, used, want, "nic")
    assert text in e.value.message
