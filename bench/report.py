"""bench.run's results as a table (one function per section's rows) and against its targets."""

from __future__ import annotations

from typing import Any

Row = tuple[str, ...]


def ms(x: float) -> str:
    return f"{x * 1000:.0f} ms"


def single_rows(r: dict[str, Any], t: dict[str, str]) -> list[Row]:
    if "single" not in r:
        return []
    s = r["single"]
    return [
        (
            "create→Running p50 (one at a time)",
            ms(s["podyard_s"]["p50"]),
            ms(s["podman_s"]["p50"]) + " (podman)",
            f"{s['ratio_p50']:.2f}x",
            "≤ 1.3x",
            t["single_p50"],
        ),
        (
            "create→Running p99",
            ms(s["podyard_s"]["p99"]),
            ms(s["podman_s"]["p99"]) + " (podman)",
            "",
            "≤ 5 s",
            t["single_p99"],
        ),
    ]


def burst_rows(r: dict[str, Any], t: dict[str, str]) -> list[Row]:
    rows: list[Row] = []
    for b in r.get("bursts", []):
        rows.append(
            (
                f"burst of {b['count']}: pods/s",
                f"{b['podyard_pods_per_s']:.1f}",
                f"{b['podman_pods_per_s']:.1f} (podman)",
                f"{b['ratio']:.2f}x",
                "≥ 0.8x",
                t[f"burst_{b['count']}"],
            )
        )
    return rows


def api_rows(r: dict[str, Any], t: dict[str, str]) -> list[Row]:
    rows: list[Row] = []
    if "api" in r:
        for action, a in r["api"].items():
            p, m = a["podyard"], a["minimal"]
            rows.append(
                (
                    f"{action} req/s (fake runtime)",
                    f"{p['rps']:.0f}",
                    f"{m['rps']:.0f} (minimal)",
                    f"{a['rps_ratio']:.2f}x",
                    {"describePod": "≥ 0.7x", "describePods": "≥ 0.3x", "createPods": "≥ 1000/s"}[action],
                    t.get(f"api_{action}_rps", ""),
                )
            )
            rows.append(
                (
                    f"{action} p99",
                    f"{p['p99_ms']:.1f} ms",
                    f"{m['p99_ms']:.1f} ms (minimal)",
                    "",
                    {"describePod": "< 20 ms", "describePods": "< 30 ms", "createPods": "-"}[action],
                    t.get(f"api_{action}_p99", ""),
                )
            )
    return rows


def exec_logs_rows(r: dict[str, Any], t: dict[str, str]) -> list[Row]:
    rows: list[Row] = []
    if "exec_logs" in r:
        for k, label in (("exec", "exec round trip p50"), ("logs", "logs tail 100 p50")):
            e = r["exec_logs"][k]
            rows.append(
                (
                    label,
                    ms(e["podyard_s"]["p50"]),
                    ms(e["podman_s"]["p50"]) + " (podman CLI)",
                    f"{e['ratio_p50']:.2f}x",
                    "≤ 2x",
                    t[k],
                )
            )
    return rows


def density_rows(r: dict[str, Any], t: dict[str, str]) -> list[Row]:
    if "density" not in r:
        return []
    d = r["density"]
    return [
        (
            f"density: {d['pods']} idle pods, create p99",
            ms(d["create_to_running_s"]["p99"]),
            "",
            "",
            "≤ 5 s",
            t["density_p99"],
        ),
        (
            "podyard RSS per idle pod",
            f"{d['podyard_kib_per_pod']:.0f} KiB",
            f"{d['podyard_rss_after_mib']:.0f} MiB total",
            "",
            "< 1 MiB",
            t["density_rss"],
        ),
    ]


def table(r: dict[str, Any]) -> str:
    t = r["targets"]
    rows: list[Row] = [("measure", "podyard", "baseline", "ratio", "target", "met")]
    for section_rows in (single_rows, burst_rows, api_rows, exec_logs_rows, density_rows):
        rows += section_rows(r, t)
    widths = [max(len(str(row[i])) for row in rows) for i in range(6)]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def judge(r: dict[str, Any]) -> dict[str, str]:
    def yes(ok: bool) -> str:
        return "yes" if ok else "NO"

    t: dict[str, str] = {}
    if "single" in r:
        t["single_p50"] = yes(r["single"]["ratio_p50"] <= 1.3)
        t["single_p99"] = yes(r["single"]["podyard_s"]["p99"] <= 5.0)
    for b in r.get("bursts", []):
        t[f"burst_{b['count']}"] = yes(b["ratio"] >= 0.8)
    if "api" in r:
        a = r["api"]
        # Issue 12's: against the minimal endpoint on the same server stack.
        t["api_describePod_rps"] = yes(a["describePod"]["rps_ratio"] >= 0.7)
        t["api_describePod_p99"] = yes(a["describePod"]["podyard"]["p99_ms"] < 20)
        t["api_describePods_rps"] = yes(a["describePods"]["rps_ratio"] >= 0.3)
        t["api_describePods_p99"] = yes(a["describePods"]["podyard"]["p99_ms"] < 30)
        t["api_createPods_rps"] = yes(a["createPods"]["podyard"]["rps"] >= 1000)
    if "exec_logs" in r:
        t["exec"] = yes(r["exec_logs"]["exec"]["ratio_p50"] <= 2)
        t["logs"] = yes(r["exec_logs"]["logs"]["ratio_p50"] <= 2)
    if "density" in r:
        t["density_p99"] = yes(r["density"]["create_to_running_s"]["p99"] <= 5)
        t["density_rss"] = yes(r["density"]["podyard_kib_per_pod"] < 1024)
    return t
