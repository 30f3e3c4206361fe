"""Cloud disks for real, through the official SDKs on real Podman: a pod's data disk is a
sparse image on a loop device, formatted, mounted by podyard and bound into the
containers; a cloud system disk holds the container's writable layer at its size;
snapshots are reflink copies. Data outlives stops, rebuilds, restarts and a reboot;
nothing is left mounted or looped once the disks are gone."""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest
from jdcloud_sdk.services.pod.models.CloudDiskSpec import CloudDiskSpec
from jdcloud_sdk.services.pod.models.JDCloudVolumeSourceSpec import JDCloudVolumeSourceSpec
from jdcloud_sdk.services.pod.models.RebuildContainerSpec import RebuildContainerSpec
from jdcloud_sdk.services.pod.models.VolumeMountSpec import VolumeMountSpec
from jdcloud_sdk.services.pod.models.VolumeSpec import VolumeSpec

from drive.harness import Podyard, wait_for, wait_phase
from drive.jd import Jd, JdError, container, pod_spec
from drive.jddisk import JdDisk
from podyard.disks.names import Layout

pytestmark = pytest.mark.e2e

GB = 1024**3
SLEEP = ["sh", "-c", "exec sleep 100000"]


def layout(podyard: Podyard) -> Layout:
    return Layout.for_instance(podyard.data_dir, str(podyard.data_dir.resolve()))


def disk_client(podyard: Podyard, jd: Jd) -> JdDisk:
    return JdDisk(podyard.endpoint, jd.account)


def new_volume(name: str = "data", size: int = 20, fs: str | None = None, **more: Any) -> VolumeSpec:
    return VolumeSpec(name, JDCloudVolumeSourceSpec(fs, diskType="ssd.gp1", sizeGB=size, **more))


def existing_volume(disk_id: str, name: str = "data", **more: Any) -> VolumeSpec:
    fs = more.pop("fsType", None)
    return VolumeSpec(name, JDCloudVolumeSourceSpec(fs, volumeId=disk_id, **more))


def pod_with_disks(
    jd: Jd, image: str, volumes: list[VolumeSpec], mounts: dict[str, str] | None = None, **more: Any
) -> str:
    """A pod whose container ``app`` mounts each volume at /VOLUME (or as ``mounts`` say)."""
    paths = mounts or {v.name: f"/{v.name}" for v in volumes}
    spec = pod_spec(
        jd.account,
        f"disk-{uuid.uuid4().hex[:6]}",
        [
            container(
                image=image,
                command=SLEEP,
                volumeMounts=[VolumeMountSpec(name, path) for name, path in paths.items()],
                **more,
            )
        ],
        volumes=volumes,
        terminationGracePeriodSeconds=0,
    )
    [pod_id] = jd.create_pods(spec)
    wait_phase(jd, pod_id, "running")
    return pod_id


def sh(podyard: Podyard, pod_id: str, command: str, name: str = "app", check: bool = True) -> str:
    return podyard.podman("exec", f"{pod_id}-{name}", "sh", "-c", command, check=check)


def try_sh(podyard: Podyard, pod_id: str, command: str, name: str = "app") -> tuple[int, str]:
    svc = podyard.podman_service
    r = subprocess.run(
        ["podman", *svc.global_args(), "exec", f"{pod_id}-{name}", "sh", "-c", command],
        env=svc.env,
        capture_output=True,
        text=True,
        check=False,
    )
    return r.returncode, r.stdout + r.stderr


def volume_id(jd: Jd, pod_id: str, name: str = "data") -> str:
    vols = {v["name"]: v for v in jd.pod(pod_id)["volumes"]}
    return str(vols[name]["jdcloudDisk"]["volumeId"])


def df_bytes(podyard: Podyard, pod_id: str, path: str) -> int:
    """The size of the filesystem at ``path`` in the pod, as ``df`` shows it."""
    line = sh(podyard, pod_id, f"df -k {path} | tail -1").split()
    return int(line[1]) * 1024


def deleted(jd: Jd, pod_id: str) -> None:
    jd.call("deletePod", pod_id)
    wait_for(lambda: not [p for p in jd.pods(pageSize=100)["pods"] if p["podId"] == pod_id], 60, "the pod gone")


def mounts_of(lay: Layout) -> list[str]:
    """This podyard's disk mounts (not its pool's or its directory's own)."""
    found = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            target = line.split()[4]
            if target.startswith(f"{lay.mnt}/"):
                found.append(target)
    return found


def loops_of(lay: Layout) -> dict[str, str]:
    """Loop devices over this podyard's disk images: device -> image."""
    out = subprocess.run(
        ["losetup", "--list", "--json", "--output", "NAME,BACK-FILE"], capture_output=True, text=True, check=True
    ).stdout
    found = {}
    for entry in json.loads(out or "{}").get("loopdevices", []):
        backing = (entry.get("back-file") or "").removesuffix(" (deleted)")
        if lay.in_pool(backing):
            found[entry["name"]] = backing
    return found


def images_of(lay: Layout) -> set[str]:
    return {p.stem for p in lay.disks_dir.glob("*.img")} if lay.disks_dir.exists() else set()


def disk_leftovers(podyard: Podyard, dk: JdDisk, accounts: list[JdDisk] | None = None) -> list[str]:
    """Mounts, loop devices and images of the disk part that no disk owns, or more than one
    of them for a disk."""
    lay = layout(podyard)
    known: dict[str, dict[str, Any]] = {}
    for client in accounts or [dk]:
        for d in client.disks(pageSize=100)["disks"]:
            known[d["diskId"]] = d
    found = []
    for target in mounts_of(lay):
        disk = Path(target).name
        if disk not in known and not disk.startswith("sys-"):
            found.append(f"mount {target} of no disk")
    images: dict[str, int] = {}
    for device, image in loops_of(lay).items():
        disk = Path(image).stem
        images[disk] = images.get(disk, 0) + 1
        if disk not in known and not disk.startswith("sys-"):
            found.append(f"loop device {device} of no disk")
    found += [f"{n} loop devices over disk {d}" for d, n in images.items() if n > 1]
    found += [f"image of no disk: {d}" for d in images_of(lay) if d not in known and not d.startswith("sys-")]
    return found


def available(dk: JdDisk, disk_id: str) -> dict[str, Any]:
    return dict(wait_for(lambda: (d := dk.disk(disk_id))["status"] == "available" and d, 60, f"{disk_id} available"))


# -- a data disk --


def test_a_data_disk_keeps_its_data_holds_its_size_and_goes_with_its_pod(podyard: Podyard, image: str) -> None:
    jd = podyard.jd()
    dk = disk_client(podyard, jd)
    pod_id = pod_with_disks(jd, image, [new_volume(size=20)])
    disk_id = volume_id(jd, pod_id)
    assert dk.disk(disk_id)["status"] == "in-use"
    assert dk.disk(disk_id)["attachments"][0]["instanceId"] == pod_id
    # A real filesystem of the disk's size, its own, not the host's.
    assert 19 * GB < df_bytes(podyard, pod_id, "/data") <= 20 * GB
    assert sh(podyard, pod_id, "grep ' /data ' /proc/mounts").split()[2] == "xfs"  # the default fsType
    sh(podyard, pod_id, "echo kept > /data/file && mkdir /data/d && sync")
    # Past its size: ENOSPC, in the pod (fallocate, no gigabytes written).
    code, out = try_sh(podyard, pod_id, "fallocate -l 21G /data/big")
    assert code != 0 and "No space left" in out, out
    sh(podyard, pod_id, "rm -f /data/big")

    jd.call("stopPod", pod_id)
    wait_phase(jd, pod_id, "stopped")
    jd.call("startPod", pod_id)
    wait_phase(jd, pod_id, "running")
    assert sh(podyard, pod_id, "cat /data/file").strip() == "kept"

    # rebuildPod: new containers, the same disk.
    jd.call("stopPod", pod_id)
    wait_phase(jd, pod_id, "stopped")
    rebuilt = RebuildContainerSpec(
        name="app", image=image, command=SLEEP, volumeMounts=[VolumeMountSpec("data", "/mnt/again")]
    )
    jd.call("rebuildPod", pod_id, [rebuilt])
    wait_phase(jd, pod_id, "stopped")
    jd.call("startPod", pod_id)
    wait_phase(jd, pod_id, "running")
    assert sh(podyard, pod_id, "cat /mnt/again/file").strip() == "kept"
    assert volume_id(jd, pod_id) == disk_id

    # autoDelete (the default for a new disk): it goes with its pod, and nothing of it stays.
    deleted(jd, pod_id)
    wait_for(lambda: disk_id not in {d["diskId"] for d in dk.disks(pageSize=100)["disks"]}, 60, "the disk gone")
    lay = layout(podyard)
    assert disk_id not in images_of(lay)
    assert not [m for m in mounts_of(lay) if m.endswith(disk_id)]
    assert wait_for(lambda: not disk_leftovers(podyard, dk), 30, "nothing left"), disk_leftovers(podyard, dk)


def test_a_read_only_mount_refuses_writes(podyard: Podyard, image: str) -> None:
    jd = podyard.jd()
    spec = pod_spec(
        jd.account,
        f"ro-{uuid.uuid4().hex[:6]}",
        [
            container("writer", image=image, command=SLEEP, volumeMounts=[VolumeMountSpec("data", "/data")]),
            container(
                "reader", image=image, command=SLEEP, volumeMounts=[VolumeMountSpec("data", "/data", readOnly=True)]
            ),
        ],
        volumes=[new_volume(fs="ext4")],
        terminationGracePeriodSeconds=0,
    )
    [pod_id] = jd.create_pods(spec)
    wait_phase(jd, pod_id, "running")
    sh(podyard, pod_id, "echo from-writer > /data/f", name="writer")
    assert sh(podyard, pod_id, "cat /data/f", name="reader").strip() == "from-writer"  # one disk, both see it
    code, out = try_sh(podyard, pod_id, "echo no > /data/g", name="reader")
    assert code != 0 and "Read-only" in out, out
    assert sh(podyard, pod_id, "grep ' /data ' /proc/mounts", name="reader").split()[2] == "ext4"
    deleted(jd, pod_id)


def test_a_thousand_gb_disk_costs_almost_nothing_on_the_host(podyard: Podyard, image: str) -> None:
    jd = podyard.jd()
    dk = disk_client(podyard, jd)
    [disk_id] = dk.create_disks(size=1000, disk_type="hdd.std1", name="big")
    assert available(dk, disk_id)["diskSizeGB"] == 1000
    lay = layout(podyard)
    image_file = lay.disk_image(disk_id)
    assert image_file.stat().st_size == 1000 * GB
    assert image_file.stat().st_blocks * 512 < 100 * 1024**2, image_file.stat().st_blocks * 512
    pool = lay.pool_image.stat()
    assert pool.st_blocks * 512 < 2 * GB  # the pool's own file holds little more than what is written
    pod_id = pod_with_disks(jd, image, [existing_volume(disk_id)])
    assert 990 * GB < df_bytes(podyard, pod_id, "/data") <= 1000 * GB
    # A disk in use is not deleted: the error names the pod, and nothing changes.
    with pytest.raises(JdError) as e:
        dk.delete_disk(disk_id)
    assert 400 <= e.value.code < 500 and pod_id in e.value.message, e.value
    assert dk.disk(disk_id)["status"] == "in-use"
    deleted(jd, pod_id)
    assert available(dk, disk_id)["attachments"] == []  # not autoDelete: it stays
    assert not [m for m in mounts_of(lay) if m.endswith(disk_id)]  # unmounted with its pod gone
    dk.delete_disk(disk_id)
    wait_for(lambda: disk_id not in images_of(lay), 60, "the image removed")
    assert wait_for(lambda: not disk_leftovers(podyard, dk), 30, "nothing left"), disk_leftovers(podyard, dk)


def moved(podyard: Podyard, image: str, dk: JdDisk, write: str, **attach: Any) -> tuple[str, str]:
    """A disk of createDisks written in one pod (``write``), that pod deleted, and the disk
    attached to a second pod (``attach``: more of its volume's fields); the disk and the pod."""
    jd = podyard.jd(dk.account)
    [disk_id] = dk.create_disks(name="moving")
    available(dk, disk_id)
    first = pod_with_disks(jd, image, [existing_volume(disk_id)])
    sh(podyard, first, write)
    deleted(jd, first)
    available(dk, disk_id)
    return disk_id, pod_with_disks(jd, image, [existing_volume(disk_id, **attach)])


def test_an_existing_disk_moves_to_another_pod_with_its_data_and_owners(podyard: Podyard, image: str) -> None:
    jd = podyard.jd()
    dk = disk_client(podyard, jd)
    write = "echo moved > /data/f && touch /data/user && chown 1000:1000 /data/user && sync"
    disk_id, second = moved(podyard, image, dk, write)
    assert sh(podyard, second, "cat /data/f").strip() == "moved"
    # Owners keep their meaning in the new pod's user namespace (another host range).
    assert sh(podyard, second, "stat -c %u:%g /data/user /data/f").split() == ["1000:1000", "0:0"]
    sh(podyard, second, "echo more >> /data/f")  # root in the pod owns what root owned
    first_range = int(sh(podyard, second, "cat /proc/self/uid_map").split()[1])
    host_owner = (layout(podyard).disk_mount(disk_id) / "user").stat().st_uid
    assert host_owner == first_range + 1000
    deleted(jd, second)
    dk.delete_disk(disk_id)


def test_a_snapshot_makes_disks_with_the_same_data(podyard: Podyard, image: str) -> None:
    jd = podyard.jd()
    dk = disk_client(podyard, jd)
    pod_id = pod_with_disks(jd, image, [new_volume(autoDelete=False)])
    disk_id = volume_id(jd, pod_id)
    sh(podyard, pod_id, "echo snapped > /data/f && dd if=/dev/urandom of=/data/r bs=1M count=4 2>/dev/null")
    digest = sh(podyard, pod_id, "md5sum /data/r").split()[0]
    snapshot_id = dk.create_snapshot(disk_id)  # of a disk in use: frozen while copied
    wait_for(lambda: dk.snapshot(snapshot_id)["status"] == "available", 60, "the snapshot taken")
    sh(podyard, pod_id, "echo after > /data/f")  # the pod goes on writing, unfrozen
    # A disk made from the snapshot, bigger, by createDisks; and one by createPods.
    [copy] = dk.create_disks(size=40, snapshotId=snapshot_id, name="copy")
    available(dk, copy)
    other = pod_with_disks(jd, image, [existing_volume(copy)])
    assert sh(podyard, other, "cat /data/f").strip() == "snapped"
    assert sh(podyard, other, "md5sum /data/r").split()[0] == digest
    assert 39 * GB < df_bytes(podyard, other, "/data") <= 40 * GB  # grown to its size
    from_snapshot = JDCloudVolumeSourceSpec(None, diskType="ssd.gp1", snapshotId=snapshot_id)
    third = pod_with_disks(jd, image, [VolumeSpec("data", from_snapshot)])
    assert sh(podyard, third, "cat /data/f").strip() == "snapped"
    for p in (pod_id, other, third):
        deleted(jd, p)
    for d in (disk_id, copy):
        available(dk, d)
        dk.delete_disk(d)
    dk.delete_snapshot(snapshot_id)
    lay = layout(podyard)
    wait_for(lambda: not list(lay.snapshots_dir.glob(f"{snapshot_id}*")), 60, "the snapshot's copy removed")
    assert wait_for(lambda: not disk_leftovers(podyard, dk), 30, "nothing left"), disk_leftovers(podyard, dk)


def test_formatting_an_existing_disk_on_attach(podyard: Podyard, image: str) -> None:
    jd = podyard.jd()
    dk = disk_client(podyard, jd)
    disk_id, second = moved(podyard, image, dk, "echo old > /data/f", fsType="ext4", formatVolume=True)
    assert try_sh(podyard, second, "cat /data/f")[0] != 0  # a new, empty filesystem
    assert sh(podyard, second, "grep ' /data ' /proc/mounts").split()[2] == "ext4"
    deleted(jd, second)
    available(dk, disk_id)
    dk.delete_disk(disk_id)


def test_another_accounts_disk_is_neither_seen_nor_attached(podyard: Podyard, image: str) -> None:
    jd = podyard.jd()
    dk = disk_client(podyard, jd)
    [disk_id] = dk.create_disks(name="mine")
    available(dk, disk_id)
    other = podyard.jd(podyard.new_account(f"other-{uuid.uuid4().hex[:6]}"))
    other_dk = disk_client(podyard, other)
    with pytest.raises(JdError) as e:
        other_dk.disk(disk_id)
    assert e.value.code == 404
    spec = pod_spec(other.account, "thief", [container(image=image, command=SLEEP,
                    volumeMounts=[VolumeMountSpec("data", "/data")])], volumes=[existing_volume(disk_id)])  # fmt: skip
    with pytest.raises(JdError) as e:
        other.create_pods(spec)
    assert e.value.code == 404 and "volumeId" in e.value.message
    assert other.pods()["totalCount"] == 0
    # The other account's pod, running, sees no disk of this account's anywhere.
    theirs = pod_with_disks(other, image, [new_volume()])
    assert sh(podyard, theirs, "grep -c ' /data ' /proc/mounts").strip() == "1"
    assert disk_id not in sh(podyard, theirs, "cat /proc/mounts")
    assert dk.disk(disk_id)["status"] == "available"
    deleted(other, theirs)
    dk.delete_disk(disk_id)


# -- a cloud system disk --


def test_a_cloud_system_disk_holds_the_containers_layer_at_its_size(podyard: Podyard, image: str) -> None:
    jd = podyard.jd()
    spec = pod_spec(
        jd.account,
        f"sys-{uuid.uuid4().hex[:6]}",
        [
            container(
                image=image, command=SLEEP, systemDisk=CloudDiskSpec(category="cloud", diskType="ssd.gp1", sizeGB=20)
            )
        ],
        terminationGracePeriodSeconds=0,
    )
    [pod_id] = jd.create_pods(spec)
    wait_phase(jd, pod_id, "running")
    assert 19 * GB < df_bytes(podyard, pod_id, "/") <= 20 * GB
    sh(podyard, pod_id, "echo layer > /root/f")
    code, out = try_sh(podyard, pod_id, "fallocate -l 21G /root/big")
    assert code != 0 and "No space left" in out, out
    sh(podyard, pod_id, "rm -f /root/big")
    jd.call("stopPod", pod_id)
    wait_phase(jd, pod_id, "stopped")
    jd.call("startPod", pod_id)
    wait_phase(jd, pod_id, "running")
    assert sh(podyard, pod_id, "cat /root/f").strip() == "layer"  # the layer lives on its disk
    lay = layout(podyard)
    assert [m for m in mounts_of(lay) if f"sys-{pod_id}-" in m]
    deleted(jd, pod_id)
    assert wait_for(lambda: not [m for m in mounts_of(lay) if f"sys-{pod_id}-" in m], 30, "the layer's disk gone")
    assert not [d for d in images_of(lay) if d.startswith(f"sys-{pod_id}-")]


# -- restarts, reboots, crashes --


def unmounted(target: Path) -> None:
    """umount, again while busy: a detached loop device may let go of its image file a moment
    after ``losetup -d`` returns (the kernel can close it from a worker), so the file system
    holding the image can be busy for that moment."""
    wait_for(lambda: subprocess.run(["umount", str(target)], capture_output=True).returncode == 0, 30,
             f"{target} unmounted")  # fmt: skip


def test_disks_come_back_after_a_restart_and_a_host_reboot(podyard: Podyard, image: str) -> None:
    jd = podyard.jd()
    dk = disk_client(podyard, jd)
    pod_id = pod_with_disks(jd, image, [new_volume()])
    disk_id = volume_id(jd, pod_id)
    sh(podyard, pod_id, "echo survives > /data/f && sync")
    lay = layout(podyard)

    podyard.stop()
    podyard.start()
    wait_phase(jd, pod_id, "running")
    assert sh(podyard, pod_id, "cat /data/f").strip() == "survives"
    assert len(mounts_of(lay)) == len(set(mounts_of(lay)))

    # A host reboot: podyard stopped, the pods killed, every mount and loop device gone.
    podyard.stop()
    try:
        podyard.podman("pod", "stop", "-t", "0", pod_id)  # killed, and its processes gone
        for target in reversed(mounts_of(lay)):
            subprocess.run(["umount", target], check=True)
        for device in loops_of(lay):
            subprocess.run(["losetup", "-d", device], check=True)
        unmounted(lay.pool)
        pool_loops = subprocess.run(["losetup", "-j", str(lay.pool_image)], capture_output=True, text=True).stdout
        for line in pool_loops.splitlines():
            subprocess.run(["losetup", "-d", line.split(":")[0]], check=True)
        unmounted(lay.root)
        assert not mounts_of(lay) and not loops_of(lay)
    finally:
        podyard.start()  # the tests after this one share this podyard
    wait_for(lambda: try_sh(podyard, pod_id, "cat /data/f")[1].strip() == "survives", 90, "the data back")
    assert [m for m in mounts_of(lay) if m.endswith(disk_id)]
    assert wait_for(lambda: not disk_leftovers(podyard, dk), 30, "one loop, one mount"), disk_leftovers(podyard, dk)
    deleted(jd, pod_id)


def test_an_io1_disks_iops_are_a_block_io_throttle_on_the_pod(podyard: Podyard, image: str) -> None:
    jd = podyard.jd()
    pod_id = pod_with_disks(jd, image, [VolumeSpec("data", JDCloudVolumeSourceSpec(
        None, diskType="ssd.io1", sizeGB=20, iops=200))])  # fmt: skip
    disk_id = volume_id(jd, pod_id)
    lay = layout(podyard)
    [device] = [d for d, image_file in loops_of(lay).items() if Path(image_file).stem == disk_id]
    rdev = Path(device).stat().st_rdev
    number = f"{os.major(rdev)}:{os.minor(rdev)}"
    cgroup = json.loads(podyard.podman("pod", "inspect", pod_id))["CgroupPath"]
    blkio = Path("/sys/fs/cgroup/blkio") / cgroup.lstrip("/")
    if not blkio.is_dir():
        pytest.skip("this host has no cgroup v1 block I/O controller")
    # The pod's cgroup and each container's below it (v1 throttles are not hierarchical).
    cgroups = [blkio, *[p for p in blkio.iterdir() if p.is_dir()]]
    assert len(cgroups) >= 3  # the pod, its infra container, app
    for c in cgroups:
        for kind in ("read", "write"):
            assert f"{number} 200" in (c / f"blkio.throttle.{kind}_iops_device").read_text(), (c, kind)
    deleted(jd, pod_id)
