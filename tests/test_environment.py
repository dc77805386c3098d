"""environment.yml (conda) and pyproject.toml (pip) must install the same pinned packages."""

import re

from tests.conftest import REPO

PIN = re.compile(r"""^\s*(?:-\s*)?["']?([A-Za-z0-9_.\-]+)==([^\s"',#]+)["']?,?\s*$""")


def pinned(path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        match = PIN.match(line)
        if match:
            pins[match[1].lower().replace("_", "-")] = match[2]
    return pins


def dependency_lines() -> list[str]:
    text = (REPO / "pyproject.toml").read_text()
    block = text.split("dependencies = [", 1)[1].split("]", 1)[0]
    return [
        line.strip().strip('",') for line in block.splitlines() if line.strip() and not line.strip().startswith("#")
    ]


def test_environment_yml_matches_pyproject():
    project = pinned(REPO / "pyproject.toml")
    assert len(project) == len(dependency_lines()) > 20
    assert pinned(REPO / "environment.yml") == project


def test_every_dependency_is_pinned():
    assert all("==" in requirement for requirement in dependency_lines())


def test_torch_is_the_cpu_build_pin():
    assert "torch==2.13.0" in dependency_lines()
