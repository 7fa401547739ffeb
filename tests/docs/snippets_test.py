#!/usr/bin/env python3
"""tools/snippets.py on small repositories made for each test: what it accepts, what it reports
(file:line and why), and what `update` rewrites. Run by CTest as docs.snippets_tool."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import textwrap
import unittest
from pathlib import Path

TOOL = Path(__file__).resolve().parents[2] / "tools" / "snippets.py"

SOURCE = """\
#include <cstdio>

int main() {
  // snippet: greet
  std::puts("hello");
  if (true) {
    std::puts("nested");

  }
  // end snippet
  // snippet: outer
  int a = 1;
  // snippet: inner
  int b = 2;
  // end snippet
  return a + b - 3;
  // end snippet
}
"""

CMAKE = """\
cmake_minimum_required(VERSION 3.25)
# snippet: link
target_link_libraries(app PRIVATE flowkit::flowkit)
# end snippet
"""

GOOD_DOC = """\
# Guide

<!-- snippet: tests/docs/hello.cpp#greet -->
```cpp
std::puts("hello");
if (true) {
  std::puts("nested");

}
```

Nested regions keep the inner one's code, without its markers:

<!-- snippet: tests/docs/hello.cpp#outer -->
```cpp
int a = 1;
int b = 2;
return a + b - 3;
```

1. In a list item, the block carries the item's indentation:

   <!-- snippet: tests/docs/CMakeLists.txt#link -->
   ```cmake
   target_link_libraries(app PRIVATE flowkit::flowkit)
   ```

A shell block needs no source:

```sh
cmake --build build
```

````markdown
```cpp
shown as Markdown, inside another fence: not a block of the page
```
````
"""


class SnippetsTool(unittest.TestCase):
    def setUp(self) -> None:
        self.scratch = tempfile.TemporaryDirectory(prefix="flowkit-snippets-")
        self.root = Path(self.scratch.name)
        self.write("tests/docs/hello.cpp", SOURCE)
        self.write("tests/docs/CMakeLists.txt", CMAKE)

    def tearDown(self) -> None:
        self.scratch.cleanup()

    def write(self, relative: str, text: str) -> Path:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    def run_tool(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(TOOL), *args, "--root", str(self.root)],
            capture_output=True,
            text=True,
            check=False,
        )

    def assert_fails_with(self, expected: list[str], *args: str) -> str:
        result = self.run_tool(*args)
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        for text in expected:
            self.assertIn(text, result.stderr)
        return result.stderr

    def test_blocks_equal_to_their_regions_pass(self) -> None:
        self.write("README.md", GOOD_DOC)
        self.write("docs/deep/more.md", "<!-- snippet: tests/docs/hello.cpp#greet -->\n" + GOOD_DOC.split("\n", 3)[3])
        result = self.run_tool("check")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("checked 6 sourced block(s) in 2 Markdown file(s)", result.stdout)

    def test_check_is_the_default_command(self) -> None:
        self.write("docs/page.md", "```cpp\nint x;\n```\n")
        self.assert_fails_with(["docs/page.md:1: ```cpp block without a source"])

    def test_cpp_and_cmake_blocks_without_a_source_are_reported(self) -> None:
        self.write("docs/page.md", "Text\n\n```cpp\nint x;\n```\n\n```cmake\nproject(x)\n```\n")
        self.assert_fails_with(
            ["docs/page.md:3: ```cpp block without a source", "docs/page.md:7: ```cmake block without a source"],
            "check",
        )

    def test_missing_source_file(self) -> None:
        self.write("docs/page.md", "<!-- snippet: tests/docs/gone.cpp#greet -->\n```cpp\nx\n```\n")
        self.assert_fails_with(["docs/page.md:1: no source file tests/docs/gone.cpp"])

    def test_source_outside_the_repository(self) -> None:
        self.write("docs/page.md", "<!-- snippet: ../elsewhere.cpp#greet -->\n```cpp\nx\n```\n")
        self.assert_fails_with(["docs/page.md:1: ../elsewhere.cpp: not a path inside the repository"])

    def test_missing_region(self) -> None:
        self.write("docs/page.md", "\n<!-- snippet: tests/docs/hello.cpp#farewell -->\n```cpp\nx\n```\n")
        self.assert_fails_with(
            ["docs/page.md:2: tests/docs/hello.cpp has no region 'farewell' (its regions: greet, inner, outer)"]
        )

    def test_region_defined_twice(self) -> None:
        self.write("tests/docs/hello.cpp", SOURCE + "// snippet: greet\nint again;\n// end snippet\n")
        self.write("README.md", GOOD_DOC)
        self.assert_fails_with(["tests/docs/hello.cpp:19: region 'greet' is defined twice (first at line 4)"])

    def test_region_without_end(self) -> None:
        self.write("tests/docs/hello.cpp", SOURCE + "// snippet: open\nint x;\n")
        self.write("README.md", GOOD_DOC)
        self.assert_fails_with(["tests/docs/hello.cpp:19: region 'open' has no 'end snippet'"])

    def test_block_that_differs_shows_a_diff(self) -> None:
        self.write("README.md", GOOD_DOC.replace('std::puts("nested");', 'std::puts("stale");'))
        stderr = self.assert_fails_with(
            [
                "README.md:4: block differs from tests/docs/hello.cpp#greet (region at line 4):",
                '-  std::puts("stale");',
                '+  std::puts("nested");',
            ]
        )
        self.assertNotIn("README.md:13", stderr)  # the other blocks match

    def test_indentation_is_compared(self) -> None:
        self.write("README.md", GOOD_DOC.replace('\n  std::puts("nested");', '\n    std::puts("nested");'))
        self.assert_fails_with(["README.md:4: block differs from tests/docs/hello.cpp#greet"])

    def test_marker_not_followed_by_a_block(self) -> None:
        self.write("docs/page.md", "<!-- snippet: tests/docs/hello.cpp#greet -->\n\n```cpp\nx\n```\n")
        self.assert_fails_with(
            [
                "docs/page.md:1: snippet marker not immediately followed by a fenced block",
                "docs/page.md:3: ```cpp block without a source",
            ]
        )

    def test_malformed_marker(self) -> None:
        self.write("docs/page.md", "<!-- snippet: tests/docs/hello.cpp -->\n```sh\nx\n```\n")
        self.assert_fails_with(["docs/page.md:1: malformed marker"])

    def test_unclosed_fence(self) -> None:
        self.write("docs/page.md", "Text\n```sh\nx\n")
        self.assert_fails_with(["docs/page.md:2: fenced block is never closed"])

    def test_generated_pages_are_left_to_their_generator(self) -> None:
        self.write("docs/gallery.md", "<!-- generated by a tool -->\n```cpp\nint x;\n```\n")
        self.assertEqual(self.run_tool().returncode, 0)

    def test_update_rewrites_blocks_from_their_regions(self) -> None:
        stale = GOOD_DOC.replace('std::puts("hello");', "old();").replace(
            "   target_link_libraries(app PRIVATE flowkit::flowkit)", "   old()\n   older()"
        )
        readme = self.write("README.md", stale)
        result = self.run_tool("update")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("README.md: rewrote 2 block(s) from their regions", result.stdout)
        self.assertEqual(readme.read_text(encoding="utf-8"), GOOD_DOC)
        self.assertEqual(self.run_tool("check").returncode, 0)

    def test_update_leaves_matching_pages_untouched(self) -> None:
        readme = self.write("README.md", GOOD_DOC)
        before = readme.stat().st_mtime_ns
        result = self.run_tool("update")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(readme.stat().st_mtime_ns, before)
        self.assertIn("rewrote 0 sourced block(s)", result.stdout)

    def test_update_still_fails_on_what_it_cannot_rewrite(self) -> None:
        self.write("docs/page.md", "<!-- snippet: tests/docs/hello.cpp#nope -->\n```cpp\nx\n```\n")
        self.assert_fails_with(["docs/page.md:1: tests/docs/hello.cpp has no region 'nope'"], "update")


if __name__ == "__main__":
    unittest.main(verbosity=2)
