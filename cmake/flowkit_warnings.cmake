# Warnings are errors in flowkit's own targets only; users' builds are theirs.
add_library(flowkit_warnings INTERFACE)
target_compile_options(flowkit_warnings INTERFACE
  $<$<CXX_COMPILER_ID:GNU,Clang>:-Wall -Wextra -Wpedantic -Werror>)
