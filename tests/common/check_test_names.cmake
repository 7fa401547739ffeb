# cmake -DDIR=<tests> -P check_test_names.cmake: fails if a Catch2 test case's name holds a ';'.
# CTest splits a discovered name at ';', and the pieces then run as filters that match nothing.
file(GLOB_RECURSE sources "${DIR}/*.cpp")
set(bad "")
foreach(source IN LISTS sources)
  file(STRINGS "${source}" lines REGEX "TEST_CASE\\(\"[^\"]*;")
  if(lines)
    list(APPEND bad "${source}")
  endif()
endforeach()
if(bad)
  list(JOIN bad "\n  " shown)
  message(FATAL_ERROR "test case names with ';' (CTest would split them):\n  ${shown}")
endif()
