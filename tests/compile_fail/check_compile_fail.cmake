# Compiles one translation unit with -fsyntax-only and checks what the compiler said.
# Run by CTest as `cmake -D... -P check_compile_fail.cmake`.
#
#   COMPILER      the C++ compiler
#   SOURCE        the file to compile (MODE fail / pass)
#   HEADER        the header to include alone, e.g. flowkit/core/task.hpp (MODE header), or
#                 headers separated by `|` (MODE deps)
#   WORK_DIR      where MODE header / deps write their one-line translation unit
#   INCLUDES      include directories, separated by `|`; FLOWKIT_INCLUDE among them gets -I,
#                 the others -isystem, and the compiler's implicit ones (IMPLICIT) are dropped
#   FLAGS         extra flags, separated by `|`
#   CHECK_TEXT    ON: check the `// expect:` regexes and the error count (MODE fail). GCC and
#                 clang print names differently (flowkit::name<9>{"order_id"} against
#                 flowkit::chars<'o', 'r', ...>): both are rewritten to "order_id" first, so one
#                 regex serves both. OFF (other compilers): only a `flowkit: ` diagnostic is required
#   FORBIDDEN     MODE deps: regexes, separated by `|`, that no included file may match
#   MODE
#     fail    with -DFLOWKIT_NEGATIVE the file must not compile; every `// expect: <regex>` line
#             of the file must match the output, and the output must hold exactly one line with
#             `error:` unless the file says `// errors: any`
#     pass    without it, the file must compile (the positive twin)
#     header  `#include <HEADER>` alone must compile
#     deps    the headers that HEADER pull in (-M) must match none of FORBIDDEN

cmake_minimum_required(VERSION 3.25)

foreach(var COMPILER MODE)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "check_compile_fail.cmake: ${var} is not set")
  endif()
endforeach()

string(REPLACE "|" ";" includes "${INCLUDES}")
string(REPLACE "|" ";" implicit "${IMPLICIT}")
string(REPLACE "|" ";" flags "${FLAGS}")
set(include_flags "")
foreach(dir IN LISTS includes)
  if(dir STREQUAL "" OR dir IN_LIST implicit)
    continue()
  endif()
  if(dir STREQUAL FLOWKIT_INCLUDE)
    list(APPEND include_flags "-I${dir}")
  else()
    list(APPEND include_flags -isystem "${dir}")
  endif()
endforeach()
list(REMOVE_DUPLICATES include_flags)

if(MODE STREQUAL "header" OR MODE STREQUAL "deps")
  string(MAKE_C_IDENTIFIER "${HEADER}" stem)
  string(LENGTH "${stem}" length)
  if(length GREATER 80)
    string(MD5 stem "${stem}")
  endif()
  set(SOURCE "${WORK_DIR}/${stem}.cpp")
  string(REPLACE "|" ";" headers "${HEADER}")
  set(text "")
  foreach(header IN LISTS headers)
    string(APPEND text "#include <${header}>\n")
  endforeach()
  file(WRITE "${SOURCE}" "${text}")
endif()
if(NOT EXISTS "${SOURCE}")
  message(FATAL_ERROR "check_compile_fail.cmake: no file ${SOURCE}")
endif()

set(mode_flags -fsyntax-only)
if(MODE STREQUAL "fail")
  list(APPEND mode_flags -DFLOWKIT_NEGATIVE)
elseif(MODE STREQUAL "deps")
  set(mode_flags -M)  # the list of included files, on stdout
endif()

# LC_ALL=C: plain ASCII quotes and English wording, whatever the machine's locale.
set(command "${CMAKE_COMMAND}" -E env LC_ALL=C "${COMPILER}" -std=c++20 -fdiagnostics-color=never
    ${flags} ${include_flags} ${mode_flags} "${SOURCE}")
execute_process(COMMAND ${command} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
string(JOIN " " shown ${command})
set(output "${out}${err}")

# Prints the compiler's output as it is, then why the test fails.
function(fail why)
  message("---- compiler output ----\n${output}---- end of compiler output ----")
  message(FATAL_ERROR "${why}\n  command: ${shown}")
endfunction()

if(MODE STREQUAL "pass" OR MODE STREQUAL "header")
  if(NOT rc EQUAL 0)
    fail("${SOURCE} does not compile, but it must")
  endif()
  message(STATUS "compiles: ${SOURCE}")
  return()
endif()

if(MODE STREQUAL "deps")
  if(NOT rc EQUAL 0)
    fail("could not list the headers that ${HEADER} includes")
  endif()
  string(REPLACE "|" ";" forbidden "${FORBIDDEN}")
  foreach(pattern IN LISTS forbidden)
    if(output MATCHES "${pattern}")
      fail("${HEADER} pulls in a header matching '${pattern}' (${CMAKE_MATCH_0})")
    endif()
  endforeach()
  string(REPLACE "|" ", " listed "${HEADER}")
  message(STATUS "no header matching ${FORBIDDEN} is included by ${listed}")
  return()
endif()

if(NOT MODE STREQUAL "fail")
  message(FATAL_ERROR "check_compile_fail.cmake: unknown MODE '${MODE}'")
endif()

# MODE fail.
file(STRINGS "${SOURCE}" expect_lines REGEX "^// expect: ")
file(STRINGS "${SOURCE}" any_errors REGEX "^// errors: any$")
if(NOT expect_lines)
  message(FATAL_ERROR "${SOURCE} has no `// expect: <regex>` line")
endif()
if(rc EQUAL 0)
  fail("${SOURCE} compiled with -DFLOWKIT_NEGATIVE, but a negative case must not compile")
endif()
if(NOT CHECK_TEXT)
  # At least make sure that a flowkit diagnostic failed it, not a bad command line.
  if(NOT output MATCHES "(flowkit: |fk::)")
    fail("${SOURCE} did not compile, but not because of a flowkit diagnostic ('flowkit: ...' or 'fk::...')")
  endif()
  message(STATUS "does not compile, with a flowkit diagnostic (the text is not checked with this compiler): ${SOURCE}")
  return()
endif()

# Names as each compiler prints them, rewritten to "name": GCC's flowkit::name<9>{"order_id"} and
# clang's flowkit::chars<'o', 'r', 'd', 'e', 'r', '_', 'i', 'd'>.
string(REGEX REPLACE "flowkit::name<[0-9]+>{(\"[^\"]*\")}" "\\1" text "${output}")
while(text MATCHES "flowkit::chars<(('[^']*')?(, '[^']*')*)>")
  set(spelled "${CMAKE_MATCH_0}")
  string(REGEX REPLACE "'([^']*)'(, )?" "\\1" letters "${CMAKE_MATCH_1}")
  string(REPLACE "${spelled}" "\"${letters}\"" text "${text}")
endwhile()

foreach(line IN LISTS expect_lines)
  string(REGEX REPLACE "^// expect: " "" regex "${line}")
  if(NOT text MATCHES "${regex}")
    fail("${SOURCE} did not compile, as expected, but its output (names rewritten to \"name\") does not match\n  ${regex}")
  endif()
endforeach()

if(NOT any_errors)
  # `;` and brackets would split or glue CMake list items: take them out before counting lines.
  string(REGEX REPLACE "[][;]" "_" plain "${output}")
  string(REGEX MATCHALL "[^\n]*error:[^\n]*" errors "${plain}")
  list(LENGTH errors error_count)
  if(NOT error_count EQUAL 1)
    string(JOIN "\n    " listed ${errors})
    fail("${SOURCE} gave ${error_count} errors instead of one (a cascade):\n    ${listed}")
  endif()
  if(NOT errors MATCHES "(flowkit: |fk::)")
    fail("${SOURCE} gave one error, but not flowkit's own ('flowkit: ...' or 'fk::...'): it must say what is wrong in words")
  endif()
endif()
list(LENGTH expect_lines expect_count)
message(STATUS "does not compile, with one error matching ${expect_count} expectation(s): ${SOURCE}")
