"""The host network, made to match a VPC's plan.

Every VPC is a network namespace (``podyard-TAG-VPCID``). A pod's interface is a veth
pair: its eth0 in the pod, its port in the VPC's namespace, routed (a /32 route per
address, proxy ARP for the subnet), so every packet between pods crosses the VPC's
forward chain, where the security groups are. The subnets' gateways are addresses of the
namespace. Nothing routes between namespaces, so VPCs are apart whatever their CIDRs.
An uplink veth joins the namespace to the host, for elastic IPs only.
"""

from __future__ import annotations

import asyncio
import json
import logging

from podyard import faults
from podyard.domain.netplan import ElasticIp, Port, VpcPlan, uplink_address
from podyard.domain.network import mac_for
from podyard.network import rules, shaping
from podyard.network.commands import NetworkFailure, in_ns, in_pid, run
from podyard.network.names import VPC_UPLINK, Names

log = logging.getLogger(__name__)

# Inside a VPC: forward, answer ARP for the subnets on every port at once (no proxy
# delay), and no reverse-path filter (replies from the uplink come back by any route).
_VPC_SYSCTLS = (
    "net.ipv4.ip_forward=1",
    "net.ipv4.conf.all.rp_filter=0",
    "net.ipv4.conf.default.rp_filter=0",
    "net.ipv4.conf.default.proxy_arp=1",
    "net.ipv6.conf.all.disable_ipv6=1",
    "net.ipv6.conf.default.disable_ipv6=1",
)


class Dataplane:
    def __init__(self, names: Names, inner_pool: str, routable: bool = False) -> None:
        self.names = names
        # A routable elastic IP pool: the host forwards between its uplinks and the world.
        # A loopback pool is this host's alone: nothing is forwarded to or from an uplink.
        self.routable = routable
        self._uplink_addr = uplink_address(inner_pool)
        self._locks: dict[str, asyncio.Lock] = {}
        self._attached: set[tuple[str, str]] = set()  # (vpc id, pod id)
        self._made: set[str] = set()  # VPCs whose namespace and uplink this process checked
        self._applied: dict[str, str] = {}  # vpc id → the rule set last loaded
        # vpc id → (the namespace's own addresses, the elastic IP routes) last made
        self._routed: dict[str, tuple[frozenset[str], frozenset[str]]] = {}
        self._shaped: dict[str, tuple[ElasticIp, ...]] = {}
        self._host_eips: dict[str, list[tuple[str, str]]] = {}  # vpc id → loopback (address, inner)
        self._host_loaded: str | None = None
        # The host's rule set holds every VPC's loopback elastic IPs: VPCs applied at once
        # (a restart replugs them all) load it one after the other, each from the newest
        # state, or an older set could land last and drop another VPC's addresses.
        self._host_lock = asyncio.Lock()

    def lock(self, vpc_id: str) -> asyncio.Lock:
        return self._locks.setdefault(vpc_id, asyncio.Lock())

    # -- what exists --

    async def namespaces(self) -> set[str]:
        out = await run("ip", "-j", "netns", "list")
        return {n["name"] for n in json.loads(out or "[]")}

    async def vpcs(self) -> set[str]:
        return {v for n in await self.namespaces() if (v := self.names.vpc_of_ns(n))}

    async def _links(self, ns: str) -> set[str]:
        out = await run("ip", "-n", ns, "-j", "link", "show", check=False)
        return {link["ifname"] for link in json.loads(out or "[]")}

    def attached(self, vpc_id: str, pod_id: str) -> bool:
        return (vpc_id, pod_id) in self._attached

    async def learn(self, vpc_id: str, pod_ids: set[str]) -> None:
        """After a restart: which of these pods' ports exist in the VPC."""
        links = await self._links(self.names.vpc_ns(vpc_id))
        for pod_id in pod_ids:
            if self.names.port(pod_id) in links:
                self._attached.add((vpc_id, pod_id))

    # -- VPCs --

    async def ensure_vpc(self, vpc_id: str) -> None:
        if vpc_id in self._made:  # once per process: apply and attach run on every change
            return
        ns = self.names.vpc_ns(vpc_id)
        if ns not in await self.namespaces():
            await run("ip", "netns", "add", ns)
        await run(*in_ns(ns, "sysctl", "-qw", *_VPC_SYSCTLS))
        await run("ip", "-n", ns, "link", "set", "lo", "up")
        if VPC_UPLINK in await self._links(ns):
            self._made.add(vpc_id)
            return
        host_end = self.names.uplink(vpc_id)
        await run("ip", "link", "del", host_end, check=False)  # a half-made uplink
        await run("ip", "link", "add", host_end, "type", "veth", "peer", "name", VPC_UPLINK, "netns", ns)
        await run("ip", "addr", "add", f"{self._uplink_addr}/32", "dev", host_end)
        # The loopback pool's clients send from 127/8 (then masqueraded); the guard in
        # rules.host_ruleset drops 127/8 arriving on any interface but lo.
        await run("sysctl", "-qw", f"net.ipv4.conf.{host_end}.route_localnet=1")
        await run("ip", "link", "set", host_end, "up")
        await run("ip", "-n", ns, "link", "set", "dev", VPC_UPLINK, "up")
        await run("ip", "-n", ns, "route", "replace", "default", "via", self._uplink_addr, "dev", VPC_UPLINK, "onlink")
        self._made.add(vpc_id)

    async def apply(self, plan: VpcPlan) -> None:
        """Make the VPC's addresses, rules, elastic IP routes and shaping match the plan."""
        ns = self.names.vpc_ns(plan.vpc_id)
        await self.ensure_vpc(plan.vpc_id)
        eips = [eip for _, eip in plan.elastic_ips]
        local, inner = frozenset(plan.gateways) | {e.inner for e in eips}, frozenset(e.inner for e in eips)
        if self._routed.get(plan.vpc_id) != (local, inner):
            await self._sync_local_addresses(ns, local)
        ruleset = rules.vpc_ruleset(plan, self.names)
        if self._applied.get(plan.vpc_id) != ruleset:
            await run(*in_ns(ns, "nft", "-f", "-"), stdin=ruleset)
            self._applied[plan.vpc_id] = ruleset
            faults.point("network.rules_loaded")
        if self._routed.get(plan.vpc_id) != (local, inner):
            await self._sync_routes(plan.vpc_id, inner)
            self._routed[plan.vpc_id] = (local, inner)
        if self._shaped.get(plan.vpc_id) != tuple(eips):
            await self._shape(plan.vpc_id, ns, eips)
            self._shaped[plan.vpc_id] = tuple(eips)
        self._host_eips[plan.vpc_id] = [(e.address, e.inner) for e in eips if e.address != e.inner]
        await self.apply_host()

    async def _sync_local_addresses(self, ns: str, wanted: frozenset[str]) -> None:
        out = await run("ip", "-n", ns, "-j", "-4", "addr", "show", "dev", "lo")
        have = {a["local"] for link in json.loads(out or "[]") for a in link.get("addr_info", [])} - {"127.0.0.1"}
        for address in wanted - have:
            await run("ip", "-n", ns, "addr", "add", f"{address}/32", "dev", "lo")
        for address in have - wanted:
            await run("ip", "-n", ns, "addr", "del", f"{address}/32", "dev", "lo", check=False)

    async def _sync_routes(self, vpc_id: str, inner: frozenset[str]) -> None:
        dev = self.names.uplink(vpc_id)
        out = await run("ip", "-j", "-4", "route", "show", "dev", dev, check=False)
        have = {r["dst"] for r in json.loads(out or "[]") if r.get("dst", "").count(".") == 3}
        for address in inner - have:
            await run("ip", "route", "replace", f"{address}/32", "dev", dev)
        for address in have - inner:
            await run("ip", "route", "del", f"{address}/32", "dev", dev, check=False)

    async def _shape(self, vpc_id: str, ns: str, eips: list[ElasticIp]) -> None:
        host_end = self.names.uplink(vpc_id)
        await run("tc", "qdisc", "del", "dev", host_end, "root", check=False)
        await run("ip", "netns", "exec", ns, "tc", "qdisc", "del", "dev", VPC_UPLINK, "root", check=False)
        if eips:
            await run("tc", "-batch", "-", stdin=shaping.batch(host_end, eips, towards_pods=True))
            await run(*in_ns(ns, "tc", "-batch", "-"), stdin=shaping.batch(VPC_UPLINK, eips, towards_pods=False))

    async def remove_vpc(self, vpc_id: str) -> None:
        """The VPC's namespace, and with it its ports, uplink, routes and rules."""
        await run("ip", "netns", "del", self.names.vpc_ns(vpc_id), check=False)
        self._attached = {a for a in self._attached if a[0] != vpc_id}
        self._made.discard(vpc_id)
        for d in (self._applied, self._routed, self._shaped, self._host_eips, self._locks):
            d.pop(vpc_id, None)
        await self.apply_host()

    # -- the host --

    async def apply_host(self) -> None:
        async with self._host_lock:
            loopback_eips = sorted(e for v in self._host_eips.values() for e in v)
            ruleset = rules.host_ruleset(self.names, loopback_eips, routable=self.routable)
            if ruleset != self._host_loaded:
                if self.routable and self._host_loaded is None:
                    await run("sysctl", "-qw", "net.ipv4.ip_forward=1")
                await run("nft", "-f", "-", stdin=ruleset)
                self._host_loaded = ruleset

    async def teardown(self) -> None:
        """Everything this instance made on the host (for an operator's clean-up, and tests)."""
        for vpc_id in await self.vpcs():
            await self.remove_vpc(vpc_id)
        await run("nft", "-f", "-", stdin=rules.host_teardown(self.names))
        self._host_loaded = None

    # -- pods --

    async def attach(self, vpc_id: str, port: Port, pid: int) -> None:
        """Give the pod whose network namespace is held by ``pid`` its interface: two
        processes, one in each namespace. The pair is made with each end in its place (the
        pod's is eth0 at birth), so nothing is moved between namespaces."""
        ns = self.names.vpc_ns(vpc_id)
        vpc_end = self.names.port(port.pod_id)
        await self.ensure_vpc(vpc_id)
        # Proxy ARP comes from the namespace's defaults (_VPC_SYSCTLS); its delay is per device.
        outside = [f"link add {vpc_end} type veth peer name eth0 address {mac_for(port.pod_id)} netns {pid}"]
        outside += [f"ntable change name arp_cache dev {vpc_end} proxy_delay 0", f"link set {vpc_end} up"]
        outside += [f"route replace {ip}/32 dev {vpc_end}" for ip in port.ips]
        batch = "\n".join(outside) + "\n"
        try:
            await run("ip", "-n", ns, "-batch", "-", stdin=batch)
        except NetworkFailure as e:
            if "File exists" not in e.stderr:
                raise
            # Left by an earlier sandbox of this pod, or by an interrupted attach: deleting
            # either end of a pair deletes both.
            await run("ip", "-n", ns, "link", "del", vpc_end, check=False)
            await run(*in_pid(pid, "ip", "link", "del", "eth0"), check=False)
            await run("ip", "-n", ns, "-batch", "-", stdin=batch)
        faults.point("network.port_made")
        inside = [f"addr add {ip}/{port.prefixlen} dev eth0" for ip in port.ips]
        inside += ["link set lo up", "link set eth0 up", f"route replace default via {port.gateway} dev eth0"]
        await run(*in_pid(pid, "ip", "-batch", "-"), stdin="\n".join(inside) + "\n")
        self._attached.add((vpc_id, port.pod_id))

    async def detach(self, vpc_id: str, pod_id: str) -> None:
        await run("ip", "-n", self.names.vpc_ns(vpc_id), "link", "del", self.names.port(pod_id), check=False)
        self._attached.discard((vpc_id, pod_id))

    async def sweep(self, vpc_ids: set[str]) -> None:
        """Remove the namespaces of VPCs that are gone (an interrupted attach leaves nothing on
        the host: a pair's ends are made in their namespaces)."""
        for vpc_id in await self.vpcs() - vpc_ids:
            log.info("removing the network of vpc %s, which no longer exists", vpc_id)
            await self.remove_vpc(vpc_id)
