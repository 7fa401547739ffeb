# Runs two executables that print a structural hash and fails unless they print the same,
# non-empty value.
execute_process(COMMAND "${A}" OUTPUT_VARIABLE a RESULT_VARIABLE a_rc OUTPUT_STRIP_TRAILING_WHITESPACE)
execute_process(COMMAND "${B}" OUTPUT_VARIABLE b RESULT_VARIABLE b_rc OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT a_rc EQUAL 0 OR NOT b_rc EQUAL 0)
  message(FATAL_ERROR "a printer failed: ${a_rc} ${b_rc}")
endif()
if(NOT a MATCHES "^[0-9a-f]+$")
  message(FATAL_ERROR "not a hash: '${a}'")
endif()
if(NOT a STREQUAL b)
  message(FATAL_ERROR "two executables disagree on a flow's structural hash: ${a} and ${b}")
endif()
message(STATUS "both print ${a}")
