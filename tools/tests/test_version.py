"""`plumb --version` names every Swift package compiled into the binary at the version the build
resolved, and the system libraries it loads; Package.swift pins every dependency exactly."""
import json
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PLUMB = ROOT / ".build" / "debug" / "plumb"


def version_text():
    return subprocess.run([PLUMB, "--version"], capture_output=True, text=True, check=True).stdout


def test_dependencies_are_pinned_exactly():
    text = (ROOT / "Package.swift").read_text()
    packages = re.findall(r'\.package\(url: "([^"]+)", (\w+):', text)
    assert len(packages) >= 3
    assert all(kind == "exact" for _, kind in packages), packages


def test_version_lists_the_resolved_packages_and_system_libraries():
    resolved = ROOT / "Package.resolved"
    if not resolved.exists():
        pytest.fail("Package.resolved is written by swift build; run the build first")
    pins = {p["identity"]: p["state"].get("version") for p in json.loads(resolved.read_text())["pins"]}
    text = version_text()
    line = next(l for l in text.splitlines() if l.startswith("Swift packages: "))
    listed = dict(item.rsplit(" ", 1) for item in line[len("Swift packages: "):].split(", "))
    assert set(listed) >= {"swift-argument-parser", "swift-nio", "swift-nio-ssl", "swift-protobuf", "swift-atomics", "swift-collections"}
    for name, version in listed.items():
        assert pins.get(name) == version, (name, version, pins.get(name))
    libs = next(l for l in text.splitlines() if l.startswith("System libraries: "))
    for lib in ("liblz4 ", "libsqlite3 ", "libcrypto ", "libcurl ", "zlib ", "ncursesw "):
        assert lib in libs, libs
