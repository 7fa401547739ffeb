# Runs flowkit-example-resume twice on a new store, as a user would: the first run must die by
# SIGKILL, the second must resume (skipping the tasks done before the kill) and succeed; a third
# must run nothing. cmake -DEXE=<example> -DDIR=<scratch directory> -P resume_twice.cmake
file(REMOVE_RECURSE "${DIR}")
file(MAKE_DIRECTORY "${DIR}")
set(store "${DIR}/resume-example.lmdb")

function(run_example expect_rc out_var)
  execute_process(COMMAND "${EXE}" "${store}" RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  message(STATUS "flowkit-example-resume: ${rc}\n${out}${err}")
  if(NOT "${rc}" STREQUAL "${expect_rc}")
    message(FATAL_ERROR "expected the run to end with '${expect_rc}', it ended with '${rc}'")
  endif()
  set(${out_var} "${out}" PARENT_SCOPE)
endfunction()

function(expect out regex)
  if(NOT out MATCHES "${regex}")
    message(FATAL_ERROR "the output does not match '${regex}'")
  endif()
endfunction()

run_example("Subprocess killed" first)  # CMake's words for a child that died by SIGKILL
expect("${first}" "charge: card charged")
run_example(0 second)
expect("${second}" "resuming the run")
expect("${second}" "flow SUCCESS, tracking number TRACK-0042")
expect("${second}" "skipped \\(done before[^\n]*: validate reserve charge\n")
expect("${second}" "ran in this process: pack ship notify\n")
run_example(0 third)
expect("${third}" "skipped \\(done before[^\n]*: validate reserve charge pack ship notify\n")
expect("${third}" "has ended \\(flow SUCCESS\\)")
expect("${third}" "ran in this process:\n")
