"""What podyard's network costs: pods with two security groups and an elastic IP against
plain ones, and how a VPC's nftables rule set grows with its pods.

    .venv/bin/python -m bench.network [--pods 100] [--samples 10] [--changes 3] [--json FILE]

One live podyard on its own Podman (the e2e harness, with pools of its own: subnets from
10.237.0.0/16, elastic IPs from 127.102.0.0/24, inner addresses from 10.238.0.0/16),
driven through the official SDK's PodClient and VpcClient. Every pod runs one busybox
container sleeping. Two sections, each in a VPC made for it through the VPC service:

    latency  ``--samples`` pods of each kind made one at a time (maxCount 1), interleaved
             A, B, A, B... in one subnet, after one warm-up pod of each: A carries one
             security group (TCP 8080 and ICMP in) and no elastic IP, the baseline; B
             that group, a second one (TCP 22 and ICMP in) and podSpec.elasticIp (10 Mbps).
             Timed from the createPods call until describePod, polled every 20 ms, says
             ``running``. Each pod is deleted (B's with deletePrimaryNetworkInterface-
             AllElasticIp) and gone, with its elastic IP, and podyard and its Podman
             service are quiet again, before the next is made. p50, p90 and max of each
             kind; B / A at p50 and p90.
    growth   pods carrying one group (TCP 8080 and ICMP in), made in maxCount batches of
             up to 20 until ``--pods``, each batch running before the next. First one pod
             is made and deleted, so the VPC's namespace (``podyard-TAG-VPCID``) exists
             with no port. At 0, 10, 25, 50 and 100 pods, once the namespace's rule set has
             every pod's chains:
             - its size: lines and bytes of ``nft list ruleset`` in the namespace, and
               rules (objects of kind "rule" in ``nft -j list ruleset``);
             - ``--changes`` rule changes, medians: from a quiet podyard and Podman,
               addNetworkSecurityGroupRules of a TCP port on the group, then one pod's
               ingress chain listed every 5 ms until the port shows: ms from the API call
               (podyard loads a VPC's whole rule set in one ``nft -f`` transaction, so one
               chain seen is all seen; each time the full rule set is checked to have the
               port once per pod); then the CPU the change cost podyard's process and its
               Podman service (utime + stime, until both are quiet again); then the same
               for removeNetworkSecurityGroupRules of that rule;
             - what loading a rule set that size costs: ``nft -c -f -`` (check only: the
               kernel is given the transaction and drops it) of the dump in the namespace,
               and a real ``nft -f -`` of it in a scratch namespace of this script's, each
               load replacing the tables whole (add, delete, then the tables) as podyard's
               own loads do; medians of 5, through ``ip netns exec`` as podyard runs nft.
             Then whether it grows linearly: rules, lines and bytes per pod between points.

"Quiet": podyard and its Podman service used under 20 ms of CPU in half a second.
podyard's RSS (VmRSS) at each point and at the end, the machine, the versions and the
date go with the results. About 2 minutes for 100 pods, 10 samples and 3 changes.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import statistics
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

import click
from jdcloud_sdk.services.common.models.Filter import Filter
from jdcloud_sdk.services.pod.models.ElasticIpSpec import ElasticIpSpec
from jdcloud_sdk.services.pod.models.NetworkInterfaceAttachmentSpec import NetworkInterfaceAttachmentSpec
from jdcloud_sdk.services.pod.models.NetworkInterfaceSpec import NetworkInterfaceSpec
from jdcloud_sdk.services.pod.models.PodSpec import PodSpec
from jdcloud_sdk.services.vpc.models.AddSecurityGroupRules import AddSecurityGroupRules

from bench.host import machine, versions
from bench.live import live_podyard
from bench.pods import running
from bench.probes import HZ, cpu_ticks, others
from bench.stats import pct, rss_kib
from drive.harness import Podyard, wait_for
from drive.jd import Jd, container
from drive.jdvpc import JdVpc
from podyard.network.names import Names

# The benchmark's own pools (nothing shared with the tests), and room for the pods.
SETTINGS = {
    "network_pool": "10.237.0.0/16",
    "elastic_ip_pool": "127.102.0.0/24",
    "elastic_ip_inner_pool": "10.238.0.0/16",
    "quota_pod": "2000",
    "quota_container": "8000",
}
LATENCY_VPC, LATENCY_SUBNET = "10.80.0.0/16", "10.80.1.0/24"
GROWTH_VPC, GROWTH_SUBNET = "10.81.0.0/16", "10.81.0.0/22"
POINTS = (0, 10, 25, 50, 100)
BATCH = 20  # maxCount of each createPods in the growth
SLEEP = ["sh", "-c", "exec sleep 100000"]
TCP, ICMP, INGRESS = 6, 1, 0
CHANGE_PORT = 40000  # the timed rule changes' ports: 40000 + 10 × pods + the change's number


@dataclass
class Bench:
    podyard: Podyard
    jd: Jd
    vpc: JdVpc
    image: str

    @property
    def pid(self) -> int:
        assert self.podyard.proc is not None
        return self.podyard.proc.pid

    @property
    def podman_pid(self) -> int:
        return int((self.podyard.podman_service.run_dir / "podman.pid").read_text())


def say(message: str) -> None:
    print(f"[{time.strftime('%X')}] {message}", flush=True)


def ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def stats(seconds: list[float]) -> dict[str, Any]:
    return {
        "n": len(seconds),
        "p50_ms": ms(statistics.median(seconds)),
        "p90_ms": ms(pct(seconds, 0.9)),
        "max_ms": ms(max(seconds)),
        "samples_ms": [ms(s) for s in seconds],
    }


# -- commands on the host ---------------------------------------------------------------------


def sh(*argv: str, stdin: str | None = None) -> str:
    r = subprocess.run(argv, input=stdin, capture_output=True, text=True, check=False)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[:7])}: {r.stderr.strip()}")
    return r.stdout


def in_ns(ns: str, *argv: str) -> tuple[str, ...]:
    return ("ip", "netns", "exec", ns, *argv)


def median_ms(run: Callable[[], Any], times: int) -> float:
    """The median of ``times`` runs, in ms."""
    took = []
    for _ in range(times):
        t = time.perf_counter()
        run()
        took.append(time.perf_counter() - t)
    return ms(statistics.median(took))


def cpu_ms(b: Bench) -> tuple[float, float]:
    """CPU time so far (utime + stime) of podyard's process and of its Podman service, in ms."""
    return cpu_ticks(b.pid) * 1000 / HZ, cpu_ticks(b.podman_pid) * 1000 / HZ


def quiet(b: Bench, timeout: float = 60) -> None:
    """Until podyard and its Podman service use under 20 ms of CPU in half a second."""
    deadline = time.monotonic() + timeout
    last = sum(cpu_ms(b))
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = sum(cpu_ms(b))
        if now - last < 20:
            return
        last = now
    raise RuntimeError(f"podyard and Podman still busy after {timeout} s")


def vpc_namespace(vpc_id: str, timeout: float = 60) -> str:
    """The network namespace podyard made for the VPC (``podyard-TAG-VPCID``)."""

    def find() -> str | None:
        names = [n["name"] for n in json.loads(sh("ip", "-j", "netns", "list") or "[]")]
        return next((n for n in names if n.startswith("podyard-") and n.endswith(f"-{vpc_id}")), None)

    return str(wait_for(find, timeout, f"the namespace of {vpc_id}"))


def ruleset(ns: str) -> str:
    return sh(*in_ns(ns, "nft", "list", "ruleset"))


def rule_count(ns: str) -> int:
    listed = json.loads(sh(*in_ns(ns, "nft", "-j", "list", "ruleset")))["nftables"]
    return sum("rule" in item for item in listed)


def port_chains(text: str) -> int:
    return text.count("chain ingress_p")


def replacing(dump: str) -> str:
    """The dump as podyard loads a rule set: each table added, deleted, then made whole."""
    tables = re.findall(r"^table (\S+) (\S+) \{", dump, re.M)
    head = [f"add table {family} {name}\ndelete table {family} {name}" for family, name in tables]
    return "\n".join(head) + "\n" + dump


class Scratch:
    """A network namespace of this script's, to load rule sets in for real."""

    def __init__(self) -> None:
        self.ns = f"nbench-{uuid.uuid4().hex[:8]}"
        sh("ip", "netns", "add", self.ns)

    def load_ms(self, dump: str, times: int) -> float:
        text = replacing(dump)
        sh(*in_ns(self.ns, "nft", "-f", "-"), stdin=text)  # the first makes the tables
        return median_ms(lambda: sh(*in_ns(self.ns, "nft", "-f", "-"), stdin=text), times)

    def close(self) -> None:
        subprocess.run(["ip", "netns", "del", self.ns], capture_output=True, check=False)


# -- VPCs and pods -------------------------------------------------------------------------------


def rule(protocol: int, prefix: str, port: int | None = None) -> AddSecurityGroupRules:
    return AddSecurityGroupRules(protocol, INGRESS, prefix, fromPort=port, toPort=port)


def make_vpc(b: Bench, name: str, cidr: str, subnet_cidr: str) -> tuple[str, str]:
    vpc_id = b.vpc.create_vpc(f"{name}-{uuid.uuid4().hex[:6]}", cidr)
    return vpc_id, b.vpc.create_subnet(vpc_id, name, subnet_cidr)


def make_group(b: Bench, vpc_id: str, name: str, rules: list[AddSecurityGroupRules]) -> str:
    group = str(b.vpc.call("createNetworkSecurityGroup", vpc_id, name)["networkSecurityGroupId"])
    b.vpc.call("addNetworkSecurityGroupRules", group, rules)
    return group


def spec(b: Bench, subnet: str, groups: list[str], elastic_ip: bool = False) -> PodSpec:
    nic = NetworkInterfaceSpec(subnet, securityGroups=groups)
    return PodSpec(
        name=f"nb-{uuid.uuid4().hex[:6]}",
        instanceType="g.s1.micro",
        az="cn-north-1a",
        containers=[container(image=b.image, command=SLEEP)],
        primaryNetworkInterface=NetworkInterfaceAttachmentSpec(nic),
        terminationGracePeriodSeconds=0,
        elasticIp=ElasticIpSpec(10, "bgp") if elastic_ip else None,
    )


def create_to_running(jd: Jd, pod: PodSpec, timeout: float = 120) -> tuple[str, float]:
    """One pod (maxCount 1); seconds from the createPods call until describePod says running."""
    t = time.perf_counter()
    [pod_id] = jd.create_pods(pod)
    while (phase := jd.pod(pod_id)["podStatus"]["phase"]) != "running":
        if time.perf_counter() - t > timeout or phase in ("error", "failed"):
            raise RuntimeError(f"pod {pod_id} is {phase} after {time.perf_counter() - t:.1f}s")
        time.sleep(0.02)
    return pod_id, time.perf_counter() - t


def gone(jd: Jd, pod_id: str) -> bool:
    return int(jd.pods(filters=[Filter("podId", [pod_id])])["totalCount"]) == 0


def delete(b: Bench, pod_id: str, elastic_ip: bool) -> None:
    """Delete the pod (and its elastic IP) and wait until both are gone."""
    opt = {"deletePrimaryNetworkInterfaceAllElasticIp": True} if elastic_ip else {}
    b.jd.call("deletePod", pod_id, **opt)
    wait_for(lambda: gone(b.jd, pod_id), 120, f"pod {pod_id} to go")
    if elastic_ip:
        wait_for(lambda: not b.vpc.call("describeElasticIps")["elasticIps"], 60, "the elastic IP to go")


def elastic_ip_of(jd: Jd, pod_id: str) -> str:
    return str(jd.pod(pod_id)["primaryNetworkInterface"]["networkInterface"]["primaryIp"]["elasticIpAddress"] or "")


# -- 1. create→Running with and without ------------------------------------------------------


def section_latency(b: Bench, samples: int) -> dict[str, Any]:
    vpc_id, subnet = make_vpc(b, "lat", LATENCY_VPC, LATENCY_SUBNET)
    web = make_group(b, vpc_id, "web", [rule(TCP, LATENCY_VPC, 8080), rule(ICMP, LATENCY_VPC)])
    admin = make_group(b, vpc_id, "admin", [rule(TCP, LATENCY_SUBNET, 22), rule(ICMP, "0.0.0.0/0")])
    kinds = {"without": ([web], False), "with": ([web, admin], True)}
    took: dict[str, list[float]] = {kind: [] for kind in kinds}
    eips: list[str] = []
    for i in range(samples + 1):  # the first round warms up (pause image, pull, namespace)
        for kind, (groups, elastic_ip) in kinds.items():
            quiet(b)  # the last pod's deletion has ended in podyard and Podman too
            pod_id, seconds = create_to_running(b.jd, spec(b, subnet, groups, elastic_ip))
            if elastic_ip:
                eips.append(elastic_ip_of(b.jd, pod_id))
            delete(b, pod_id, elastic_ip)
            if i:
                took[kind].append(seconds)
        if i:
            plain, full = took["without"][-1], took["with"][-1]
            say(f"latency {i}/{samples}: without {plain * 1000:.0f} ms, with {full * 1000:.0f} ms")
    out: dict[str, Any] = {kind: stats(values) for kind, values in took.items()}
    for q in ("p50", "p90"):
        out[f"ratio_{q}"] = round(out["with"][f"{q}_ms"] / out["without"][f"{q}_ms"], 3)
    out["elastic_ip_shown"] = {"pods": len(eips), "with_address": sum(bool(e) for e in eips)}
    return out


# -- 2. the rule set as pods come ---------------------------------------------------------------


def settled(ns: str, pods: int, timeout: float = 120) -> str:
    """The namespace's rule set once it has the chains of exactly ``pods`` ports."""
    return str(wait_for(lambda: (text := ruleset(ns)) and port_chains(text) == pods and text, timeout, f"{pods} ports"))


def until_listed(ns: str, chain: tuple[str, ...], port: int, present: bool, since: float) -> tuple[float, int]:
    """Poll one chain every 5 ms until the port shows (or is gone): ms since ``since``, polls."""
    pattern = re.compile(rf"\bdport {port}\b")
    polls = 0
    while True:
        polls += 1
        if bool(pattern.search(sh(*in_ns(ns, "nft", "list", "chain", *chain)))) == present:
            return ms(time.perf_counter() - since), polls
        if time.perf_counter() - since > 60:
            raise RuntimeError(f"port {port} {'not applied' if present else 'not removed'} in 60 s")
        time.sleep(0.005)


def timed_change(
    b: Bench, ns: str, chain: tuple[str, ...], port: int, present: bool, call: Callable[[], Any]
) -> dict[str, Any]:
    """From a quiet podyard: ``call`` (a rule change) until the port is (or is no longer)
    in the chain; then until all is quiet again, for the CPU the change cost."""
    quiet(b)
    cpu = cpu_ms(b)
    t = time.perf_counter()
    call()
    api = time.perf_counter() - t
    seen, polls = until_listed(ns, chain, port, present, t)
    quiet(b)
    podyard, podman = (after - before for after, before in zip(cpu_ms(b), cpu, strict=True))
    return {"ms": seen, "api_ms": ms(api), "polls": polls, "podyard_cpu_ms": podyard, "podman_cpu_ms": podman}


def rule_change(b: Bench, ns: str, group: str, chain: tuple[str, ...], port: int) -> dict[str, Any]:
    """Add a rule for ``port`` to the group, until it is in the rule set; then remove it."""
    add = timed_change(
        b, ns, chain, port, True,
        lambda: b.vpc.call("addNetworkSecurityGroupRules", group, [rule(TCP, GROWTH_VPC, port)]),
    )  # fmt: skip
    add["ports_with_rule"] = len(re.findall(rf"\bdport {port}\b", ruleset(ns)))
    rules = b.vpc.call("describeNetworkSecurityGroup", group)["networkSecurityGroup"]["securityGroupRules"]
    [rule_id] = [r["ruleId"] for r in rules if r["fromPort"] == port]
    remove = timed_change(
        b, ns, chain, port, False, lambda: b.vpc.call("removeNetworkSecurityGroupRules", group, [rule_id])
    )
    return {"add": add, "remove": remove}


def measure(b: Bench, ns: str, scratch: Scratch, pods: list[str], group: str, changes: int) -> dict[str, Any]:
    dump = settled(ns, len(pods))
    point: dict[str, Any] = {
        "pods": len(pods),
        "nft_lines": dump.count("\n"),
        "nft_bytes": len(dump.encode()),
        "rules": rule_count(ns),
        "nft_list_ms": median_ms(lambda: ruleset(ns), 5),
        "nft_check_load_ms": median_ms(lambda: sh(*in_ns(ns, "nft", "-c", "-f", "-"), stdin=dump), 5),
        "nft_load_scratch_ms": scratch.load_ms(dump, 5),
    }
    if pods:
        names = Names(ns.split("-")[1])  # podyard-TAG-VPCID
        chain = ("inet", names.table, f"ingress_{names.port(pods[0])}")
        point["chain_list_ms"] = median_ms(lambda: sh(*in_ns(ns, "nft", "list", "chain", *chain)), 5)
        base = CHANGE_PORT + 10 * len(pods)
        runs = [rule_change(b, ns, group, chain, base + i) for i in range(changes)]
        point["changes"] = runs
        for kind in ("add", "remove"):
            for key in ("ms", "podyard_cpu_ms", "podman_cpu_ms"):
                point[f"rule_{kind}_{key}"] = round(statistics.median(r[kind][key] for r in runs), 1)
        point["rule_in_every_port"] = all(r["add"]["ports_with_rule"] == len(pods) for r in runs)
    point["podyard_rss_mib"] = round(rss_kib(b.pid) / 1024, 1)
    return point


def grow(b: Bench, pod: Callable[[], PodSpec], ids: list[str], target: int) -> None:
    """Pods in batches of up to 20, each running before the next batch, until ``target``."""
    while len(ids) < target:
        batch = b.jd.create_pods(pod(), min(BATCH, target - len(ids)))
        running(b.jd, batch, timeout=120)
        ids += batch


def linearity(points: list[dict[str, Any]]) -> dict[str, Any]:
    """Per pod between one point and the next: constant means linear growth."""
    out: dict[str, Any] = {}
    for key in ("rules", "nft_lines", "nft_bytes"):
        out[f"{key}_per_pod"] = [round((q[key] - p[key]) / (q["pods"] - p["pods"]), 2) for p, q in pairwise(points)]
    rules = out["rules_per_pod"]
    out["linear"] = bool(rules) and max(rules) == min(rules)
    return out


def section_growth(b: Bench, scratch: Scratch, pods: int, changes: int) -> dict[str, Any]:
    vpc_id, subnet = make_vpc(b, "grow", GROWTH_VPC, GROWTH_SUBNET)
    group = make_group(b, vpc_id, "pods", [rule(TCP, GROWTH_VPC, 8080), rule(ICMP, GROWTH_VPC)])

    def pod() -> PodSpec:
        return spec(b, subnet, [group])

    # One pod made and deleted: the namespace exists, with no port in it.
    pod_id, _ = create_to_running(b.jd, pod())
    delete(b, pod_id, False)
    ns = vpc_namespace(vpc_id)
    ids: list[str] = []
    points = []
    for target in sorted({*(p for p in POINTS if p < pods), pods}):
        grow(b, pod, ids, target)
        points.append(measure(b, ns, scratch, ids, group, changes))
        p = points[-1]
        say(
            f"growth {target} pods: {p['nft_lines']} lines, {p['rules']} rules, "
            f"rule add {p.get('rule_add_ms', '-')} ms, nft -c -f {p['nft_check_load_ms']} ms"
        )
    return {
        "vpc_namespace": ns,
        "ip_netns_exec_true_ms": median_ms(lambda: sh(*in_ns(ns, "true")), 5),  # in every nft time here
        "points": points,
        "linearity": linearity(points),
    }


# -- the report ----------------------------------------------------------------------------------


def columns(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def latency_table(lat: dict[str, Any]) -> str:
    rows: list[tuple[str, ...]] = [("create→Running", "p50 ms", "p90 ms", "max ms", "n")]
    for kind, label in (("without", "1 group, no elastic IP"), ("with", "2 groups + elastic IP")):
        s = lat[kind]
        rows.append((label, f"{s['p50_ms']:.0f}", f"{s['p90_ms']:.0f}", f"{s['max_ms']:.0f}", str(s["n"])))
    rows.append(("with / without", f"{lat['ratio_p50']:.2f}x", f"{lat['ratio_p90']:.2f}x", "", ""))
    return columns(rows)


def growth_table(g: dict[str, Any]) -> str:
    head = ("pods", "nft lines", "rules", "bytes", "rule add ms", "rule remove ms", "CPU of an add ms",
            "nft -c -f ms", "nft -f ms (scratch)", "podyard RSS MiB")  # fmt: skip
    rows: list[tuple[str, ...]] = [head]
    for p in g["points"]:
        rows.append(
            (
                str(p["pods"]),
                str(p["nft_lines"]),
                str(p["rules"]),
                str(p["nft_bytes"]),
                f"{p['rule_add_ms']:.0f}" if "rule_add_ms" in p else "-",
                f"{p['rule_remove_ms']:.0f}" if "rule_remove_ms" in p else "-",
                f"{p['rule_add_podyard_cpu_ms']:.0f} + {p['rule_add_podman_cpu_ms']:.0f} Podman" if p["pods"] else "-",
                f"{p['nft_check_load_ms']:.1f}",
                f"{p['nft_load_scratch_ms']:.1f}",
                f"{p['podyard_rss_mib']:.1f}",
            )
        )
    lin = g["linearity"]
    overhead = "CPU of an add: podyard's process + its Podman service, from the call until both are quiet.\n"
    overhead += f"(each nft time includes `ip netns exec`: {g['ip_netns_exec_true_ms']:.1f} ms for `true`)"
    verdict = "linear: the same rules per pod at every step" if lin["linear"] else "NOT linear"
    return "\n".join(
        [
            columns(rows),
            overhead,
            f"rules per pod between points: {lin['rules_per_pod']} ({verdict})",
            f"lines per pod: {lin['nft_lines_per_pod']}; bytes per pod: {lin['nft_bytes_per_pod']}",
        ]
    )


def report(r: dict[str, Any]) -> str:
    m, v = r["machine"], r["versions"]
    out = [f"podyard network — {r['date']} — {m['cpus']} CPUs, {m['memory']} — {v['podman']}, nft {v['nft']}"]
    if "latency" in r:
        out += ["", latency_table(r["latency"])]
    if "growth" in r:
        out += ["", growth_table(r["growth"])]
    out += ["", f"podyard RSS at the end: {r['podyard_rss_mib']:.1f} MiB"]
    return "\n".join(out)


@click.command()
@click.option("--pods", default=100, help="Pods in the VPC at the last point of the growth.")
@click.option("--samples", default=10, help="Pods of each kind timed create→Running.")
@click.option("--changes", default=3, help="Rule changes timed at each point of the growth.")
@click.option("--only", default="latency,growth", help="Sections to run.")
@click.option("--json", "json_path", type=click.Path(path_type=Path), help="Write the results here too.")
def main(pods: int, samples: int, changes: int, only: str, json_path: Path | None) -> None:
    nft = sh("nft", "--version").split()[1]
    result: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "versions": {**versions(), "nft": nft},
        "settings": {"pods": pods, "samples": samples, "changes": changes, "batch": BATCH, **SETTINGS},
        "other_jobs_before": sorted(others()),
    }

    def save() -> None:
        if json_path:
            json_path.write_text(json.dumps(result, indent=2) + "\n")

    work = Path(tempfile.mkdtemp(prefix="podyard-bench-network-"))
    started = time.monotonic()
    with ExitStack() as stack:
        stack.callback(shutil.rmtree, work, True)
        podyard, image = live_podyard(stack, work, **SETTINGS)
        scratch = Scratch()
        stack.callback(scratch.close)
        b = Bench(podyard, podyard.jd(), podyard.vpc(), image)
        if "latency" in only:
            say(f"latency: {samples} pods of each kind, one at a time")
            result["latency"] = section_latency(b, samples)
            save()
        if "growth" in only:
            say(f"growth: up to {pods} pods in one VPC")
            result["growth"] = section_growth(b, scratch, pods, changes)
            save()
        result["podyard_rss_mib"] = round(rss_kib(b.pid) / 1024, 1)
        result["other_jobs_after"] = sorted(others())
        result["total_seconds"] = round(time.monotonic() - started, 1)
        print(report(result))
        save()


if __name__ == "__main__":
    asyncio.set_event_loop_policy(None)
    main()
