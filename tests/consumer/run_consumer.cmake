# cmake -DMODE=find_package|add_subdirectory -DPROJECT_DIR=... -DWORK=... -P run_consumer.cmake
# find_package: installs flowkit from FLOWKIT_BINARY_DIR into WORK/prefix, then builds PROJECT_DIR
# against it. add_subdirectory: builds PROJECT_DIR, which adds FLOWKIT_SOURCE_DIR. Then runs the
# program. Any failing step fails the test.
cmake_minimum_required(VERSION 3.25)

function(step)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    list(JOIN ARGN " " cmd)
    message(FATAL_ERROR "consumer (${MODE}): '${cmd}' failed: ${rc}")
  endif()
endfunction()

file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})
set(configure_args -G ${GENERATOR} -DCMAKE_CXX_COMPILER=${CXX_COMPILER} -DCMAKE_BUILD_TYPE=Release
    -DCONSUMER_SOURCE=${SOURCE})

if(MODE STREQUAL "find_package")
  step(${CMAKE_COMMAND} --install ${FLOWKIT_BINARY_DIR} --prefix ${WORK}/prefix)
  list(APPEND configure_args -DCMAKE_PREFIX_PATH=${WORK}/prefix -DEXPECT_LMDB=${EXPECT_LMDB})
elseif(MODE STREQUAL "add_subdirectory")
  list(APPEND configure_args -DFLOWKIT_SOURCE_DIR=${FLOWKIT_SOURCE_DIR})
else()
  message(FATAL_ERROR "MODE must be find_package or add_subdirectory, not '${MODE}'")
endif()

step(${CMAKE_COMMAND} -S ${PROJECT_DIR} -B ${WORK}/build ${configure_args})
step(${CMAKE_COMMAND} --build ${WORK}/build)
step(${WORK}/build/consumer)
