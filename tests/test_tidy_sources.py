"""`bigmodel course tidy`'s source conventions: literal parameters, nbval tags, the course kernel, paths."""

import copy
import logging
from pathlib import Path

import nbformat
from papermill.translators import PythonTranslator

from bigmodel_lib.course import authoring

OLD_PARAMETERS = (
    "import bigmodel_lib as bml\n\n"
    'PROFILE = bml.default_profile()     # "full" unless BIGMODEL_PROFILE=smoke; papermill: -p PROFILE smoke\n'
    'DEVICE = bml.default_device_name()  # "auto" → CUDA, MPS, CPU; or set BIGMODEL_DEVICE\n'
    "SEED = 0\n"
    "TRY_MNIST = False                   # True: also train the CNN on MNIST"
)


def chapter():
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    nb.cells = [nbformat.v4.new_markdown_cell("# 99 · Title — 标题"),
                nbformat.v4.new_code_cell(OLD_PARAMETERS, metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell('run = bml.start_chapter("99", PROFILE, seed=SEED)'),
                nbformat.v4.new_code_cell("# NBVAL_CHECK_OUTPUT\nprint(1 + 1)")]
    return nb


def parameters_cell(nb):
    return next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))


def test_old_parameters_cell_makes_papermill_warn(caplog):
    with caplog.at_level(logging.WARNING, logger="papermill"):
        found = PythonTranslator.inspect(parameters_cell(chapter()))
    assert "Unable to parse line 3" in caplog.text and "PROFILE" not in [p.name for p in found]


def test_parameters_become_literal_and_papermill_reads_them_without_warnings(caplog):
    nb = chapter()
    assert authoring.tidy_sources(nb)
    with caplog.at_level(logging.WARNING, logger="papermill"):
        found = {p.name: p.default for p in PythonTranslator.inspect(parameters_cell(nb))}
    assert caplog.text == ""
    assert found == {"PROFILE": "None", "DEVICE": "None", "SEED": "0", "TRY_MNIST": "False"}
    assert nb.cells[2].source.startswith(authoring.RESOLVE_PARAMETERS)
    once = copy.deepcopy(nb)
    assert not authoring.tidy_sources(nb) and nb == once  # idempotent


def _profile_after(nb, monkeypatch, env_profile, injected=None):
    """Run the parameters cell, papermill's injected cell (if any) and the resolution, as a kernel would."""
    monkeypatch.setenv("BIGMODEL_PROFILE", env_profile)
    namespace = {}
    exec(parameters_cell(nb).source, namespace)
    if injected:
        exec(injected, namespace)
    exec(authoring.RESOLVE_PARAMETERS, namespace)
    return namespace["PROFILE"], namespace["DEVICE"]


def test_papermills_value_wins_and_the_environment_decides_otherwise(monkeypatch):
    nb = chapter()
    authoring.tidy_sources(nb)
    monkeypatch.delenv("BIGMODEL_DEVICE", raising=False)
    assert _profile_after(nb, monkeypatch, "smoke") == ("smoke", "auto")  # nbval: the variable only
    assert _profile_after(nb, monkeypatch, "smoke", injected='PROFILE = "full"')[0] == "full"  # papermill -p
    assert _profile_after(nb, monkeypatch, "full", injected='PROFILE = "smoke"')[0] == "smoke"
    assert _profile_after(nb, monkeypatch, "")[0] == "full"  # a learner: the default


def test_nbval_comments_become_cell_tags_nbval_reads():
    from nbval.plugin import find_comment_markers, find_metadata_tags

    nb = chapter()
    authoring.tidy_sources(nb)
    cell = nb.cells[3]
    assert cell.source == "print(1 + 1)" and not list(find_comment_markers(cell.source))
    assert dict(find_metadata_tags(cell.metadata)) == {"check": True}


def test_chapters_name_the_course_kernel_and_the_runner_uses_it():
    from bigmodel_lib.course import runner

    nb = chapter()
    authoring.tidy_sources(nb)
    assert nb.metadata["kernelspec"]["name"] == runner.KERNEL_NAME == "bigmodel-course"


def test_site_packages_paths_keep_their_separator():
    repo = Path("/home/someone/bigmodel-course")
    text = f"{repo}/.venv/lib/python3.11/site-packages/keras/src/trainers/epoch_iterator.py:74: UserWarning"
    tidy = authoring._strip_paths(text, repo, "/home/someone")
    assert tidy == "site-packages/keras/src/trainers/epoch_iterator.py:74: UserWarning"
    assert authoring._strip_paths(".venvsite-packages/keras/x.py", repo, "/home/someone") == "site-packages/keras/x.py"
    assert authoring._strip_paths(f"{repo}/chapters/a.ipynb", repo, "/home/someone") == "chapters/a.ipynb"


def test_tensorflows_startup_lines_leave_the_stored_outputs():
    noise = ("WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
             "I0000 00:00:1796006694.728697    6062 port.cc:153] oneDNN custom operations are on. You may see "
             "slightly different numerical results due to floating-point round-off errors.\n")
    nb = chapter()
    nb.cells[3].outputs = [nbformat.v4.new_output("stream", name="stderr", text=noise),
                           nbformat.v4.new_output("stream", name="stdout", text="2\n"),
                           nbformat.v4.new_output("stream", name="stderr", text=noise + "UserWarning: keep me\n")]
    authoring.tidy_outputs(nb, Path("/nowhere"))
    assert [(o.name, o.text) for o in nb.cells[3].outputs] == [("stdout", "2\n"), ("stderr", "UserWarning: keep me\n")]


def test_exercise_headings_share_one_style():
    nb = chapter()
    nb.cells += [
        nbformat.v4.new_markdown_cell("**1 · Not an exercise.** Body text before the exercises."),
        nbformat.v4.new_markdown_cell("## Exercises\n\n**Exercise 1.** Write `f`.\n\n**2. Count a GPT.** Write `g`."),
        nbformat.v4.new_markdown_cell("**Exercise 3 — stable softmax.** Write it."),
        nbformat.v4.new_markdown_cell("**4 (open) · Your own question.** Change it."),
        nbformat.v4.new_markdown_cell("**练习 5 — 稳定的 softmax。** 写出它。", metadata={"tags": ["lang-zh"]}),
        nbformat.v4.new_markdown_cell("**5（思考题）：为什么？** 说明。", metadata={"tags": ["lang-zh"]}),
        nbformat.v4.new_markdown_cell("## Summary\n\n**6 · Not an exercise either.**"),
    ]
    assert authoring.exercise_headings(nb)
    sources = [c.source for c in nb.cells[4:]]
    assert sources == [
        "**1 · Not an exercise.** Body text before the exercises.",
        "## Exercises\n\n**Exercise 1.** Write `f`.\n\n**Exercise 2 · Count a GPT.** Write `g`.",
        "**Exercise 3 · stable softmax.** Write it.",
        "**Exercise 4 (open) · Your own question.** Change it.",
        "**练习 5 · 稳定的 softmax。** 写出它。",
        "**练习 5（思考题）· 为什么？** 说明。",
        "## Summary\n\n**6 · Not an exercise either.**",
    ]
    assert not authoring.exercise_headings(nb)  # idempotent
