"""A container's writable layer held on a disk of its own (a cloud system disk): diff and
work copied onto it whole and replaced by symlinks, the layer then full at the disk's
size; every step converges after a crash or a reboot. The layer directory here is a fake
of Podman's, owned like one of a user-namespaced container."""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from podyard.disks.errors import DiskFailure
from podyard.disks.host import DiskHost
from tests.disk.conftest import MiB, fs_size, kill_group, loops_of, mounted_at, reboot, sh

ROOT = 2147483647  # the container's root on the host: the start of its user-namespace range
USER = ROOT + 1000  # uid 1000 inside
OPAQUE = "trusted.overlay.opaque"
SIZE = 64 * MiB
Tree = dict[str, tuple[int, int, int, str, bytes | None]]  # path → owner, group, mode, content, mark


def fake_layer(parent: Path, name: str = "layer") -> Path:
    """Podman's directory of a container's layer, before the container first starts."""
    layer = parent / name
    diff, work = layer / "diff", layer / "work"
    for d in (layer, diff, diff / "etc", diff / "gone", work):
        d.mkdir()
    (layer / "link").write_text("ABCDEF")  # Podman's own files beside diff and work
    (diff / "etc" / "motd").write_text("hello")
    os.link(diff / "etc" / "motd", diff / "etc" / "motd.hard")
    os.symlink("motd", diff / "etc" / "motd.link")
    os.mknod(diff / "etc" / "deleted", stat.S_IFCHR | 0o000, os.makedev(0, 0))  # a whiteout
    os.mkfifo(diff / "fifo")
    os.setxattr(diff / "gone", OPAQUE, b"y")
    for path in (diff / "etc" / "motd", diff / "gone"):
        os.lchown(path, USER, USER)
    for path in (diff, diff / "etc", diff / "etc" / "motd.link", diff / "etc" / "deleted", diff / "fifo", work):
        os.lchown(path, ROOT, ROOT)
    os.chmod(diff, 0o755)
    os.chmod(diff / "etc" / "motd", 0o640)
    os.chmod(diff / "gone", 0o700)
    os.chmod(work, 0o700)
    return layer


def tree(root: Path) -> Tree:
    """Every file below ``root`` (itself too): owner, group, mode, what it holds or points
    to, its opaque mark."""
    found = {}
    for path in [root, *sorted(root.rglob("*"))]:
        st = os.lstat(path)
        if stat.S_ISLNK(st.st_mode):
            held = os.readlink(path)
        elif stat.S_ISREG(st.st_mode):
            held = hashlib.sha256(path.read_bytes()).hexdigest()
        elif stat.S_ISCHR(st.st_mode):
            held = f"char {os.major(st.st_rdev)}:{os.minor(st.st_rdev)}"
        else:
            held = ""
        mark = None if stat.S_ISLNK(st.st_mode) else os.getxattr(path, OPAQUE) if OPAQUE in os.listxattr(path) else None
        found[str(path.relative_to(root))] = (st.st_uid, st.st_gid, st.st_mode, held, mark)
    return found


def assert_held(layer: Path, target: Path, before: dict[str, Tree]) -> None:
    """diff and work are symlinks to whole copies on the disk mounted at ``target``, and
    nothing of the move is left."""
    for name in ("diff", "work"):
        assert os.readlink(layer / name) == str(target / name)
        assert tree(target / name) == before[name]
    assert sorted(p.name for p in layer.iterdir()) == ["diff", "link", "work"]
    assert sorted(p.name for p in target.iterdir()) == ["diff", "lost+found", "work"]
    motd = target / "diff" / "etc" / "motd"
    assert os.stat(motd).st_ino == os.stat(motd.with_name("motd.hard")).st_ino  # still one file
    assert os.stat(layer / "diff").st_dev == os.stat(target).st_dev


def test_a_held_layer_fills_at_its_disks_size(data_dir: Path, tmp_path: Path) -> None:
    layer = fake_layer(tmp_path)
    before = {name: tree(layer / name) for name in ("diff", "work")}

    async def scenario() -> Path:
        host = DiskHost(data_dir)
        target = await host.hold_layer("sys-1", layer, SIZE)
        assert target == host.layout.disk_mount("sys-1")
        assert await host.disks() == {"sys-1"}
        return target

    target = asyncio.run(scenario())
    assert_held(layer, target, before)
    assert 0.85 * SIZE <= fs_size(layer / "diff") <= SIZE
    vfs = os.statvfs(layer / "work")
    assert 0.85 * SIZE <= vfs.f_blocks * vfs.f_frsize <= SIZE
    sh("fallocate", "-l", str(32 * MiB), str(layer / "diff" / "half"))  # room for this
    full = sh("fallocate", "-l", str(SIZE), str(layer / "diff" / "more"), check=False)
    assert full.returncode != 0 and "No space left on device" in full.stderr
    full = sh("fallocate", "-l", str(SIZE), str(layer / "work" / "more"), check=False)
    assert full.returncode != 0 and "No space left on device" in full.stderr


def test_holding_a_layer_twice_changes_nothing(data_dir: Path, tmp_path: Path) -> None:
    layer = fake_layer(tmp_path)
    before = {name: tree(layer / name) for name in ("diff", "work")}

    async def scenario() -> None:
        host = DiskHost(data_dir)
        target = await host.hold_layer("sys-1", layer, SIZE)
        links = [os.lstat(layer / name).st_ino for name in ("diff", "work")]
        again = await asyncio.gather(*(host.hold_layer("sys-1", layer, SIZE) for _ in range(3)))
        assert again == [target] * 3
        assert await DiskHost(data_dir).hold_layer("sys-1", layer, SIZE) == target  # a restart
        assert [os.lstat(layer / name).st_ino for name in ("diff", "work")] == links  # not re-made
        image = host.layout.disk_image("sys-1")
        assert len(loops_of(image)) == 1 and mounted_at(target) == loops_of(image)
        assert_held(layer, target, before)

    asyncio.run(scenario())


def test_after_a_reboot_holding_the_layer_mounts_it_again(data_dir: Path, tmp_path: Path) -> None:
    layer = fake_layer(tmp_path)
    before = {name: tree(layer / name) for name in ("diff", "work")}
    target = asyncio.run(DiskHost(data_dir).hold_layer("sys-1", layer, SIZE))
    (layer / "diff" / "written").write_text("by the container")
    before["diff"]["written"] = tree(layer / "diff")["written"]
    os.sync()
    reboot(data_dir)
    assert not (layer / "diff" / "written").exists()  # the symlink points to nothing until then

    async def after() -> None:
        host = DiskHost(data_dir)
        assert await host.hold_layer("sys-1", layer, SIZE) == target
        image = host.layout.disk_image("sys-1")
        assert len(loops_of(image)) == 1 and mounted_at(target) == loops_of(image)

    asyncio.run(after())
    assert (layer / "diff" / "written").read_text() == "by the container"
    assert_held(layer, target, before)


def _moved_not_linked(layer: Path, target: Path) -> None:
    """Steps 1 and 2 done for diff: copied, the original renamed away, no symlink yet."""
    sh("cp", "-a", str(layer / "diff"), str(target / "diff"))
    os.rename(layer / "diff", layer / "diff.moving")


def _renamed_not_copied(layer: Path, target: Path) -> None:
    """The original renamed away, no copy on the disk (or a disk lost since)."""
    os.rename(layer / "diff", layer / "diff.moving")


def _copy_cut_short(layer: Path, target: Path) -> None:
    """A copy of diff killed half-way, and work's too."""
    (target / "diff.new" / "etc").mkdir(parents=True)
    (target / "diff.new" / "etc" / "motd").write_text("hel")
    (target / "work.new").mkdir()


def _linked_not_cleaned(layer: Path, target: Path) -> None:
    """All done but removing the originals."""
    sh("cp", "-a", str(layer / "diff"), str(target / "diff"))
    sh("cp", "-a", str(layer / "work"), str(target / "work"))
    os.rename(layer / "diff", layer / "diff.moving")
    os.rename(layer / "work", layer / "work.moving")
    os.symlink(target / "diff", layer / "diff")
    os.symlink(target / "work", layer / "work")


def _disk_remade_under_the_links(layer: Path, target: Path) -> None:
    """Linked, the originals still there, but the copies gone with their disk."""
    _linked_not_cleaned(layer, target)
    shutil.rmtree(target / "diff")
    shutil.rmtree(target / "work")


@pytest.mark.parametrize(
    "crash",
    [_moved_not_linked, _renamed_not_copied, _copy_cut_short, _linked_not_cleaned, _disk_remade_under_the_links],
)
def test_a_move_cut_short_converges(data_dir: Path, tmp_path: Path, crash: Callable[[Path, Path], None]) -> None:
    layer = fake_layer(tmp_path)
    before = {name: tree(layer / name) for name in ("diff", "work")}

    async def scenario() -> None:
        host = DiskHost(data_dir)
        await host.create("sys-1", SIZE, "ext4")
        target = await host.ensure_mounted("sys-1")
        crash(layer, target)
        assert await DiskHost(data_dir).hold_layer("sys-1", layer, SIZE) == target
        assert_held(layer, target, before)

    asyncio.run(scenario())


_CHILD = """
import asyncio, sys
from pathlib import Path
from podyard.disks.host import DiskHost

async def main():
    host = DiskHost(Path(sys.argv[1]))
    await host.ensure_pool()
    print("ready", flush=True)
    for i, layer in enumerate(sys.argv[2:]):
        await host.hold_layer(f"sys-{i}", Path(layer), 64 * 1024**2)

asyncio.run(main())
"""


def test_a_kill_9_while_holding_layers_converges(data_dir: Path, tmp_path: Path) -> None:
    # A podyard holding three layers (about 0.05 s each), killed at different points; the
    # next one holds them all, whatever the first left, then drops them for the next round.
    async def restart(layers: list[Path], before: dict[str, Tree]) -> None:
        host = DiskHost(data_dir)
        keys = {f"sys-{i}" for i in range(len(layers))}
        await host.sweep(keys, disks=keys)
        for i, layer in enumerate(layers):
            target = await host.hold_layer(f"sys-{i}", layer, SIZE)
            image = host.layout.disk_image(f"sys-{i}")
            assert len(loops_of(image)) == 1 and mounted_at(target) == loops_of(image)
            assert_held(layer, target, before)
        for key in keys:
            await host.drop_layer(key)

    for delay in (0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.13, 0.2):
        rounds = tmp_path / f"after-{delay}"
        rounds.mkdir()
        layers = [fake_layer(rounds, f"layer-{i}") for i in range(3)]
        before = {name: tree(layers[0] / name) for name in ("diff", "work")}
        argv = [sys.executable, "-c", _CHILD, str(data_dir), *map(str, layers)]
        # Its own process group, killed whole: its losetup, mkfs or cp die with it (as
        # systemd kills a service's cgroup), rather than finish after the restart began.
        child = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, start_new_session=True)
        assert child.stdout is not None and child.stdout.readline() == "ready\n"
        time.sleep(delay)
        kill_group(child)
        asyncio.run(restart(layers, before))


def test_a_layer_too_big_for_its_disk_stays_where_it_is(data_dir: Path, tmp_path: Path) -> None:
    layer = fake_layer(tmp_path)
    (layer / "diff" / "big").write_bytes(os.urandom(80 * MiB))
    before = {name: tree(layer / name) for name in ("diff", "work")}

    async def scenario() -> None:
        host = DiskHost(data_dir)
        with pytest.raises(DiskFailure, match="does not fit on the disk"):
            await host.hold_layer("sys-1", layer, SIZE)
        target = host.layout.disk_mount("sys-1")
        assert sorted(p.name for p in target.iterdir()) == ["lost+found"]  # no partial copy
        assert {name: tree(layer / name) for name in ("diff", "work")} == before
        assert sorted(p.name for p in layer.iterdir()) == ["diff", "link", "work"]
        await host.drop_layer("sys-1")

    asyncio.run(scenario())


def test_sweep_keeps_the_layers_it_is_told_to_and_drop_leaves_nothing(data_dir: Path, tmp_path: Path) -> None:
    layers = [fake_layer(tmp_path, f"layer-{i}") for i in range(2)]

    async def scenario() -> None:
        host = DiskHost(data_dir)
        for i, layer in enumerate(layers):
            await host.hold_layer(f"sys-{i}", layer, SIZE)
        lay = host.layout
        swept = await host.sweep({"sys-0", "vol-1"}, disks={"sys-0"})
        assert swept.unmounted == [str(lay.disk_mount("sys-1"))]
        assert swept.removed == [str(lay.disk_image("sys-1")), str(lay.disk_mount("sys-1"))]
        assert await host.disks() == {"sys-0"}
        assert len(mounted_at(lay.disk_mount("sys-0"))) == 1
        assert (layers[0] / "diff" / "etc" / "motd").read_text() == "hello"

        target, image = lay.disk_mount("sys-0"), lay.disk_image("sys-0")
        await host.drop_layer("sys-0")
        await host.drop_layer("sys-0")  # gone already: nothing
        assert not mounted_at(target) and not loops_of(image)
        assert not image.exists() and not target.exists()
        assert await host.disks() == set()
        assert list(lay.mnt.iterdir()) == []
        assert os.readlink(layers[0] / "diff") == str(target / "diff")  # Podman removes these

    asyncio.run(scenario())
