"""The machine and the software versions a benchmark ran on, for its report."""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path
from typing import Any

from podyard import __version__


def versions() -> dict[str, str]:
    podman = subprocess.run(["podman", "--version"], capture_output=True, text=True).stdout.strip()
    return {"podyard": __version__, "python": platform.python_version(), "podman": podman, "kernel": platform.release()}


def machine() -> dict[str, Any]:
    mem = next(line for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal"))
    return {"cpus": os.cpu_count(), "memory": mem.split(":")[1].strip(), "platform": platform.platform()}
