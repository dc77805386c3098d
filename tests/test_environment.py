"""environment.yml (conda) and pyproject.toml (pip) must install the same pinned packages, and the
platform markers must give every platform a TensorFlow build that exists there."""

import os
import subprocess
import sys

import pytest
import yaml
from packaging.requirements import Requirement

from tests.conftest import REPO

PLATFORMS = {  # sys_platform: wheel platform tags of a common machine there (Python 3.11)
    "linux": ("manylinux_2_28_x86_64", "manylinux_2_27_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64"),
    "darwin": ("macosx_14_0_arm64",),  # Apple silicon
    "win32": ("win_amd64",),
}


def dependency_lines() -> list[str]:
    text = (REPO / "pyproject.toml").read_text()
    block = text.split("dependencies = [", 1)[1].split("]", 1)[0]
    lines = [line.split("#", 1)[0].strip().rstrip(",") for line in block.splitlines()]
    return [line.strip('"') for line in lines if line]


def conda_pip_lines() -> list[str]:
    spec = yaml.safe_load((REPO / "environment.yml").read_text())
    pip = next(item["pip"] for item in spec["dependencies"] if isinstance(item, dict))
    return [line for line in pip if not line.startswith(("-e ", "./"))]


def canonical(lines) -> set[str]:
    return {str(Requirement(line)) for line in lines}


def for_platform(platform: str) -> dict[str, str]:
    """{name: version} of the requirements whose markers hold on `platform`."""
    chosen = {}
    for line in dependency_lines():
        requirement = Requirement(line)
        if requirement.marker is None or requirement.marker.evaluate({"sys_platform": platform}):
            chosen[requirement.name] = str(requirement.specifier).removeprefix("==")
    return chosen


def test_environment_yml_matches_pyproject():
    assert len(dependency_lines()) > 20
    assert canonical(conda_pip_lines()) == canonical(dependency_lines())
    assert "-e ." in yaml.safe_load((REPO / "environment.yml").read_text())["dependencies"][-1]["pip"]


def test_every_dependency_is_pinned():
    assert all(str(Requirement(line).specifier).startswith("==") for line in dependency_lines())


def test_torch_is_the_cpu_build_pin():
    assert "torch==2.13.0" in dependency_lines()


def test_each_platform_gets_one_tensorflow_of_the_same_version():
    linux, mac, windows = (for_platform(p) for p in PLATFORMS)
    assert "tensorflow" not in linux and "tensorflow-cpu" not in mac  # tensorflow-cpu has no macOS build
    assert linux["tensorflow-cpu"] == windows["tensorflow-cpu"] == mac["tensorflow"]
    assert set(linux) - {"tensorflow-cpu"} == set(mac) - {"tensorflow"}


@pytest.mark.skipif(os.environ.get("BIGMODEL_NETWORK_TESTS") != "1",
                    reason="asks the package index: set BIGMODEL_NETWORK_TESTS=1 to run")
@pytest.mark.parametrize("platform", PLATFORMS)
def test_every_pin_has_a_wheel_for_the_platform(platform):
    """pip resolves each platform's pinned requirements to wheels that exist (dry run, no install)."""
    requirements = [f"{name}=={version}" for name, version in for_platform(platform).items()]
    resolved = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--dry-run", "--quiet", "--ignore-installed", "--no-deps",
         "--only-binary=:all:", *(f"--platform={tag}" for tag in PLATFORMS[platform]), "--python-version", "3.11",
         *requirements],
        capture_output=True, text=True)
    assert resolved.returncode == 0, resolved.stderr[-1500:]


def test_environment_yml_installs_the_course_editable_and_its_kernel():
    spec = yaml.safe_load((REPO / "environment.yml").read_text())
    pip = next(item["pip"] for item in spec["dependencies"] if isinstance(item, dict))
    assert "-e ." in pip and "./kernel" in pip

