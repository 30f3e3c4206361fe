"""A live podyard for a benchmark: a private registry serving the busybox test image and a
``podyard serve`` on its own Podman, each removed again when the benchmark's stack closes."""

from __future__ import annotations

import shutil
from contextlib import ExitStack
from pathlib import Path

from drive.harness import Podyard, Registry, unmount_under
from podyard.runtime.podman.service import PodmanService


def cleanup(podyard: Podyard) -> None:
    try:
        podyard.cleanup()
    except Exception as e:  # the rest of the clean-up still runs
        print(f"podyard's clean-up failed: {e}", flush=True)


def live_podyard(stack: ExitStack, work: Path, **settings: str) -> tuple[Podyard, str]:
    """podyard (started) with PODYARD_* ``settings`` and the image its pods run, under
    ``work``; podyard's own resync period, as deployed."""
    registry = Registry(work / "registry")
    stack.callback(registry.stop)
    builder = PodmanService(work / "image" / "podman")
    stack.callback(shutil.rmtree, builder.run_dir, True)
    stack.callback(unmount_under, builder.run_dir)
    image = registry.push_busybox(work / "image")
    podyard = Podyard(work / "podyard" / "data", [registry], **settings)
    podyard.env.pop("PODYARD_RESYNC_SECONDS", None)
    stack.callback(cleanup, podyard)
    podyard.start()
    return podyard, image
