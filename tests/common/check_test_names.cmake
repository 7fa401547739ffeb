# cmake -DDIR=<tests> -P check_test_names.cmake: fails if a Catch2 test case's name holds a ';' or
# an unbalanced '[' or ']'. CTest splits a discovered name at ';', and the pieces then run as
# filters that match nothing; an unbalanced bracket stops CMake from splitting the list of names
# (catch_discover_tests), so that the tests after it run as one test whose name matches nothing.
file(GLOB_RECURSE sources "${DIR}/*.cpp")
set(bad "")
foreach(source IN LISTS sources)
  file(STRINGS "${source}" lines REGEX "TEST_CASE\\(\"[^\"]*[];[]")
  foreach(line IN LISTS lines)
    string(REGEX MATCH "TEST_CASE\\(\"[^\"]*" name "${line}")
    string(REGEX MATCHALL "\\[" opening "${name}")
    string(REGEX MATCHALL "\\]" closing "${name}")
    list(LENGTH opening opened)
    list(LENGTH closing closed)
    if(name MATCHES ";" OR NOT opened EQUAL closed)
      list(APPEND bad "${source}")
    endif()
  endforeach()
endforeach()
if(bad)
  list(REMOVE_DUPLICATES bad)
  list(JOIN bad "\n  " shown)
  message(FATAL_ERROR "test case names with ';' or an unbalanced bracket (CTest would split them wrongly):\n  ${shown}")
endif()
