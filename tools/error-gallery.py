#!/usr/bin/env python3
"""Writes docs/compile-errors.md, the gallery of flowkit's compile errors, from tests/compile_fail.

    error-gallery.py            regenerate docs/compile-errors.md
    error-gallery.py --check    regenerate in memory; exit 1 if the page differs (77: the compilers
                                are not the versions the page was made with, nothing to compare)

Each tests/compile_fail/*.cpp holds a mistake under `#ifdef FLOWKIT_NEGATIVE` (or `#ifndef`) and
its corrected twin under `#else`. A case becomes one section: the first sentence of its leading
comment is the heading (what follows a colon in it, the explanation), then come the program with the
mistake, the first lines that GCC and clang print for it, and the fix: the sentence of its `// fix:`
lines and a diff from the mistake to the twin. A case with a `// gallery: skip` line is left out.

The compilers run as the compile-fail tests run them (tests/compile_fail/CMakeLists.txt): C++20,
-fsyntax-only, -Wall -Wextra -Wpedantic -Werror, no caret lines, LC_ALL=C. Only the lines that carry
flowkit's message are kept (the error, and the lines naming the flowkit::diagnostic), with paths
shortened and line:column numbers removed, so that editing a header does not change the page.
flowkit.hpp is precompiled once per compiler (--no-pch: parsed in every case; the output is the
same), and the cases compile in parallel (--jobs).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import dataclasses
import difflib
import os
import re
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

CASES = "tests/compile_fail"
PAGE = "docs/compile-errors.md"
REFRESH = "python3 tools/error-gallery.py"

# As in tests/compile_fail/CMakeLists.txt and check_compile_fail.cmake.
COMMON_FLAGS = [
    "-std=c++20",
    "-fdiagnostics-color=never",
    "-Wall",
    "-Wextra",
    "-Wpedantic",
    "-Werror",
    "-fsyntax-only",
    "-DFLOWKIT_NEGATIVE",
]
QUIET_FLAGS = {"GCC": ["-fno-diagnostics-show-caret"], "clang": ["-fno-caret-diagnostics"]}

# The first lines of a compiler's output that the page shows, at most.
SHOWN_LINES = 3
COMPILERS_LINE = re.compile(r"^<!-- compilers: GCC (?P<gcc>\d+), clang (?P<clang>\d+) -->$", re.M)
SKIP_RETURN_CODE = 77


@dataclasses.dataclass
class Compiler:
    label: str  # GCC, clang
    command: str
    major: str


@dataclasses.dataclass
class Case:
    name: str
    source: str  # relative to the repository root
    heading: str
    explanation: str
    fix: str
    mistake: list[str]
    corrected: list[str]


class GalleryError(Exception):
    pass


def select(lines: list[str], negative: bool, where: str) -> list[str]:
    """The program as the preprocessor sees it with (or without) FLOWKIT_NEGATIVE. Only the
    conditionals on FLOWKIT_NEGATIVE are resolved; any other directive is kept as written."""
    stack: list[tuple[bool, bool]] = []  # (ours, the current branch is taken)
    kept: list[str] = []
    seen = False
    for line in lines:
        directive = line.strip()
        if match := re.match(r"#\s*if(n?)def\s+FLOWKIT_NEGATIVE\b", directive):
            stack.append((True, negative != bool(match.group(1))))
            seen = True
            continue
        if re.match(r"#\s*if", directive):
            stack.append((False, True))
        elif re.match(r"#\s*else\b", directive) and stack and stack[-1][0]:
            stack[-1] = (True, not stack[-1][1])
            continue
        elif re.match(r"#\s*endif\b", directive):
            if not stack:
                raise GalleryError(f"{where}: #endif without #if")
            ours, _ = stack.pop()
            if ours:
                continue
        if all(taken for _, taken in stack):
            kept.append(line)
    if stack:
        raise GalleryError(f"{where}: an #if is never closed")
    if not seen:
        raise GalleryError(f"{where}: no #ifdef FLOWKIT_NEGATIVE: nothing to show as the mistake")
    return kept


def tidy(lines: list[str]) -> list[str]:
    """No blank lines at either end, and never two in a row."""
    out: list[str] = []
    for line in lines:
        line = line.rstrip()
        if not line and (not out or not out[-1]):
            continue
        out.append(line)
    while out and not out[-1]:
        out.pop()
    return out


def code_spans(text: str) -> str:
    """Puts what reads as code (fk::link, history<name>(), get<name>()) between backticks, outside
    the spans that already are, so that Markdown shows `<name>` instead of taking it for HTML."""
    code = re.compile(
        r"[A-Za-z_]\w*(?:::[A-Za-z_]\w*)+(?:<[^<>]*>)?(?:\(\))?"  # fk::link, fk::link<a, b>
        r"|[A-Za-z_]\w*<[^<>\s]*>(?:\(\))?"  # history<name>()
        r"|[A-Za-z_]\w*\(\)"  # serialize()
    )
    parts = re.split(r"(`[^`]*`)", text)
    text = "".join(part if part.startswith("`") else code.sub(lambda m: f"`{m.group(0)}`", part) for part in parts)
    # A `<` left outside the spans would open an HTML tag.
    parts = re.split(r"(`[^`]*`)", text)
    return "".join(part if part.startswith("`") else part.replace("<", "&lt;") for part in parts)


def read_case(root: Path, path: Path) -> Case | None:
    source = path.relative_to(root).as_posix()
    lines = path.read_text(encoding="utf-8").splitlines()
    if any(line.startswith("// gallery: skip") for line in lines):
        return None
    leading: list[str] = []
    for line in lines:
        if not line.startswith("//"):
            break
        leading.append(line[2:].strip())
    if not leading:
        raise GalleryError(f"{source}:1: no leading comment to name the mistake")
    text = " ".join(leading)
    sentence_end = text.find(". ")
    first = text if sentence_end < 0 else text[: sentence_end + 1]
    head, colon, why = first.partition(": ")
    heading = head.rstrip(".")
    # Further sentences speak to the tests' readers (the twin, other tests): not shown.
    explanation = why[:1].upper() + why[1:] if colon else ""
    # Tagged comment lines (`// expect:`, `// fix:`...) are for the tests and this page, not part of
    # the program shown; a `// fix:` sentence may go on over further comment lines.
    fix_parts: list[str] = []
    body: list[str] = []
    in_fix = False
    for line in lines[len(leading) :]:
        tagged = re.match(r"// (expect|errors|fix|gallery):", line)
        if tagged:
            in_fix = tagged.group(1) == "fix"
        elif not (in_fix and line.startswith("// ")):
            in_fix = False
        if in_fix:
            fix_parts.append(line.removeprefix("// fix:").removeprefix("//").strip())
        elif not tagged:
            body.append(line)
    fix = " ".join(fix_parts)

    mistake = tidy(select(body, True, source))
    corrected = tidy(select(body, False, source))
    if mistake == corrected:
        raise GalleryError(f"{source}: the mistake and its twin are the same program")
    name = path.stem
    return Case(name, source, heading, explanation, fix, mistake, corrected)


def shorten(line: str, root: Path, case: Case) -> str:
    """Paths relative to what a user would write and no line:column numbers."""
    line = line.replace(str(root) + "/", "")
    line = line.replace(case.source, Path(case.source).name)
    line = re.sub(r"(?<![\w/.])include/(flowkit/)", r"\1", line)
    line = re.sub(r"(?<![\w.])/(?:[\w.+-]+/)+([\w.+-]+)", r"\1", line)  # another absolute path
    line = re.sub(r"^([^\s:]+)(?::\d+){1,2}:", r"\1:", line)  # where a diagnostic is
    line = re.sub(r"(\.(?:cpp|cc|cxx|hpp|hh|h|ipp|tcc))(?::\d+){1,2}\b", r"\1", line)  # lambda at x.cpp:3:7
    return line.rstrip()


def base_command(compiler: Compiler, includes: list[str]) -> list[str]:
    command = [compiler.command, *COMMON_FLAGS, *QUIET_FLAGS[compiler.label], "-Iinclude"]
    for directory in includes:
        command += ["-isystem", directory]
    return command


def run_compiler(command: list[str], root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, cwd=root, env={**os.environ, "LC_ALL": "C"}, capture_output=True, text=True, check=False
    )


def precompile(root: Path, compiler: Compiler, includes: list[str], scratch: Path) -> list[str]:
    """Parses flowkit.hpp once for all cases (most of a case's time): the flags that use it."""
    directory = scratch / compiler.label
    directory.mkdir()
    # A header of its own: flowkit.hpp's #pragma once would warn as a precompiled main file.
    header = directory / "all.hpp"
    header.write_text("#include <flowkit/flowkit.hpp>\n", encoding="utf-8")
    output = directory / ("all.hpp.gch" if compiler.label == "GCC" else "all.hpp.pch")
    command = [a for a in base_command(compiler, includes) if a != "-fsyntax-only"]
    result = run_compiler([*command, "-x", "c++-header", str(header), "-o", str(output)], root)
    if result.returncode != 0:
        raise GalleryError(f"{compiler.label} cannot precompile flowkit.hpp:\n{result.stdout}{result.stderr}")
    return ["-include", str(header)] if compiler.label == "GCC" else ["-include-pch", str(output)]


def compile_case(root: Path, case: Case, compiler: Compiler, command: list[str]) -> list[str]:
    command = [*command, case.source]
    result = run_compiler(command, root)
    shown = shlex.join(command)
    if result.returncode == 0:
        raise GalleryError(f"{case.source}: compiles with -DFLOWKIT_NEGATIVE ({shown}): it shows no error")
    kept = [
        shorten(line, root, case)
        for line in (result.stdout + result.stderr).splitlines()
        if "error:" in line or "flowkit::diagnostic::" in line
    ]
    if not kept:
        raise GalleryError(f"{case.source}: {compiler.label} failed without an error line ({shown})")
    return kept[:SHOWN_LINES]


def fix_diff(case: Case) -> list[str]:
    diff = list(difflib.unified_diff(case.mistake, case.corrected, n=2, lineterm=""))[2:]
    out: list[str] = []
    for line in diff:
        if line.startswith("@@"):
            if out:
                out.append(" ...")
            continue
        out.append(line.rstrip())
    return out


def render(cases: list[Case], outputs: dict[tuple[str, str], list[str]], compilers: list[Compiler]) -> str:
    gcc, clang = compilers
    lines = [
        f"<!-- generated by tools/error-gallery.py from {CASES}/*.cpp: do not edit; refresh with `{REFRESH}` -->",
        f"<!-- compilers: GCC {gcc.major}, clang {clang.major} -->",
        "",
        "# Compile errors, one mistake at a time",
        "",
        "flowkit checks how a flow is wired while it compiles: a task that reads what nothing provides, two",
        "providers of one slot, a cycle, a result that does not exist. Each section below is one such",
        "mistake, taken from the compile-fail tests (`tests/compile_fail/`): the program, the first lines",
        f"that GCC {gcc.major} and clang {clang.major} print for it, and the fix.",
        "",
        "Each error says what is wrong in words, starting with `flowkit:` (or with the call as you wrote it,",
        "`fk::link<...>`), and the note after it, if any, names the culprits: the slot, the tasks, the",
        "flow. GCC writes a name as `flowkit::name<6>{\"price\"}`, clang as",
        "`flowkit::chars<'p', 'r', 'i', 'c', 'e'>`.",
        "The compilers' paths are shortened here and their line numbers left out.",
        "",
        "The tests check that each mistake stops the compiler with this one error, not a cascade, and that",
        "its corrected twin compiles; `docs.compile_error_gallery` checks that this page still shows what",
        "the compilers print.",
        "",
    ]
    for case in cases:
        diagnostic = re.search(r"flowkit::diagnostic::(\w+)", "\n".join(outputs[(case.name, gcc.label)]))
        suffix = f" (`{diagnostic.group(1)}`)" if diagnostic else ""
        lines.append(f"- [{code_spans(case.heading)}](#{case.name}){suffix}")
    for case in cases:
        lines += ["", f'<a id="{case.name}"></a>', "", f"## {code_spans(case.heading)}", ""]
        if case.explanation:
            lines += [code_spans(case.explanation), ""]
        lines += ["```cpp", *case.mistake, "```", ""]
        for compiler in compilers:
            shown = outputs[(case.name, compiler.label)]
            lines += [f"{compiler.label} {compiler.major}:", "", "```text", *shown, "```", ""]
        fix = f"**The fix.** {code_spans(case.fix)}" if case.fix else "**The fix:**"
        lines += [fix, "", "```diff", *fix_diff(case), "```", ""]
        lines.append(f"The case: [`{case.source}`](../{case.source}).")
    return "\n".join(lines) + "\n"


def find_compiler(label: str, command: str) -> Compiler:
    try:
        version = subprocess.run([command, "-dumpversion"], capture_output=True, text=True, check=True).stdout
        banner = subprocess.run([command, "--version"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError) as error:
        raise GalleryError(f"cannot run {label} as '{command}': {error}") from error
    if ("clang" in banner.lower()) != (label == "clang"):
        raise GalleryError(f"'{command}' is not {label}: {banner.splitlines()[0]}")
    return Compiler(label, command, version.strip().split(".")[0])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="fail if the page differs; write nothing")
    parser.add_argument("--gcc", default="g++", help="GCC's C++ compiler (default: g++)")
    parser.add_argument("--clang", default="clang++", help="clang's C++ compiler (default: clang++)")
    parser.add_argument(
        "--includes",
        default="",
        help="further include directories (Boost's), separated by '|'; flowkit's own and --implicit ones are dropped",
    )
    parser.add_argument("--implicit", default="", help="the compiler's own include directories, separated by '|'")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="compilers run at once")
    parser.add_argument(
        "--no-pch", action="store_true", help="parse flowkit.hpp in every case instead of once per compiler"
    )
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent)
    args = parser.parse_args()
    root = args.root.resolve()
    implicit = {Path(p).resolve() for p in args.implicit.split("|") if p}
    own = (root / "include").resolve()
    includes = []
    for directory in args.includes.split("|"):
        if directory and Path(directory).resolve() not in implicit | {own} and directory not in includes:
            includes.append(directory)

    try:
        compilers = [find_compiler("GCC", args.gcc), find_compiler("clang", args.clang)]
        page = root / PAGE
        if args.check and page.is_file():
            made_with = COMPILERS_LINE.search(page.read_text(encoding="utf-8"))
            now = (compilers[0].major, compilers[1].major)
            if made_with and (made_with.group("gcc"), made_with.group("clang")) != now:
                print(
                    f"{PAGE} shows GCC {made_with.group('gcc')} and clang {made_with.group('clang')}; these are "
                    f"GCC {now[0]} and clang {now[1]}: their words differ, nothing to compare"
                )
                return SKIP_RETURN_CODE
        cases = [c for p in sorted((root / CASES).glob("*.cpp")) if (c := read_case(root, p)) is not None]
        outputs: dict[tuple[str, str], list[str]] = {}
        with tempfile.TemporaryDirectory(prefix="flowkit-gallery-") as scratch, concurrent.futures.ThreadPoolExecutor(
            max_workers=max(1, args.jobs)
        ) as pool:
            commands = {c.label: base_command(c, includes) for c in compilers}
            if not args.no_pch:
                headers = {c.label: pool.submit(precompile, root, c, includes, Path(scratch)) for c in compilers}
                for label, future in headers.items():
                    commands[label] += future.result()
            futures = {
                pool.submit(compile_case, root, case, compiler, commands[compiler.label]): (case.name, compiler.label)
                for case in cases
                for compiler in compilers
            }
            for future, key in futures.items():
                outputs[key] = future.result()
        text = render(cases, outputs, compilers)
    except GalleryError as error:
        print(f"error-gallery: {error}", file=sys.stderr)
        return 1

    refresh = REFRESH
    if args.gcc != "g++" or args.clang != "clang++":
        refresh += f" --gcc {shlex.quote(args.gcc)} --clang {shlex.quote(args.clang)}"
    if args.check:
        current = page.read_text(encoding="utf-8") if page.is_file() else ""
        if current == text:
            print(f"{PAGE} shows what GCC and clang print for the {len(cases)} cases of {CASES}")
            return 0
        diff = list(
            difflib.unified_diff(current.splitlines(), text.splitlines(), PAGE, "regenerated", lineterm="", n=1)
        )
        print("\n".join(diff[:40] + ([f"... ({len(diff) - 40} more diff lines)"] if len(diff) > 40 else [])))
        print(f"{PAGE} is out of date: refresh it with `{refresh}` (from the repository root)", file=sys.stderr)
        return 1
    page.write_text(text, encoding="utf-8")
    print(f"wrote {PAGE}: {len(cases)} cases")
    return 0


if __name__ == "__main__":
    sys.exit(main())
