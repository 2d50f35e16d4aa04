"""The machine a run came from, stored with its figures."""

from __future__ import annotations

import os
import platform
import sys
from importlib import metadata
from typing import Any


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gib() -> float | None:
    try:
        with open("/proc/meminfo", encoding="utf-8") as meminfo:
            for line in meminfo:
                if line.startswith("MemTotal:"):
                    return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def describe() -> dict[str, Any]:
    try:
        load = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        load = None
    return {
        "nproc": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "memory_gib": _memory_gib(),
        "cpu_model": _cpu_model(),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "ministack": _version("ministack"),
        "boto3": _version("boto3"),
        "playwright": _version("playwright"),
        "loadavg_at_start": load,
        "executable": sys.executable,
    }


def one_line(info: dict[str, Any]) -> str:
    return (f"{info['nproc']} vCPU ({info['cpu_model']}), {info['memory_gib']} GiB RAM, {info['os']}, "
            f"Python {info['python']}, MiniStack {info['ministack']}, boto3 {info['boto3']}, "
            f"load average at start {info['loadavg_at_start']}")
