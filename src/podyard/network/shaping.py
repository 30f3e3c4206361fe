"""Elastic IP bandwidth with tc: an HTB class per elastic IP on each end of the VPC's
uplink, so both directions are shaped on egress (no ingress policing: this kernel has no
police action, and no IFB is needed). Towards the pod the host end matches the inner
address as destination; from the pod the VPC end matches it as source (after SNAT)."""

from __future__ import annotations

from podyard.domain.netplan import ElasticIp


def _classes(dev: str, eips: list[ElasticIp], match: str) -> list[str]:
    # No default class: what no filter matches (replies to the host, ARP) is not shaped.
    lines = [f"qdisc add dev {dev} root handle 1: htb"]
    for i, eip in enumerate(sorted(eips, key=lambda e: e.inner), start=1):
        rate = f"{eip.bandwidth_mbps}mbit"
        # A burst of about 10 ms at the rate (at least 16 KiB) keeps TCP near the limit.
        burst = max(16 * 1024, eip.bandwidth_mbps * 1_000_000 // 8 // 100)
        lines.append(f"class add dev {dev} parent 1: classid 1:{i:x} htb rate {rate} ceil {rate} burst {burst}")
        lines.append(
            f"filter add dev {dev} parent 1: protocol ip prio 1 u32 match ip {match} {eip.inner}/32 flowid 1:{i:x}"
        )
    return lines


def batch(dev: str, eips: list[ElasticIp], *, towards_pods: bool) -> str:
    """A ``tc -batch`` that shapes the device with one class per elastic IP, once its root
    qdisc has been deleted (back to the device's default); empty without elastic IPs."""
    if not eips:
        return ""
    return "\n".join(_classes(dev, eips, "dst" if towards_pods else "src")) + "\n"
