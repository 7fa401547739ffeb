# cmake -DMODE=find_package|add_subdirectory|missing_component -DPROJECT_DIR=... -DWORK=... -P run_consumer.cmake
# find_package: installs flowkit from FLOWKIT_BINARY_DIR into WORK/prefix (with EXPECT_ADMIN, runs
# the installed bin/flowkit-admin), then builds PROJECT_DIR against it. add_subdirectory: builds PROJECT_DIR, which adds FLOWKIT_SOURCE_DIR. Then runs the
# program. Any failing step fails the test.
# missing_component: installs flowkit, removes its flowkit::lmdb export (as an installation built
# without LMDB has none), then configures PROJECT_DIR asking for COMPONENT: that must fail, and
# say why (REASON, a regex).
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

if(MODE STREQUAL "missing_component")
  step(${CMAKE_COMMAND} --install ${FLOWKIT_BINARY_DIR} --prefix ${WORK}/prefix)
  file(GLOB_RECURSE lmdb_exports ${WORK}/prefix/flowkit-lmdb-targets*.cmake)
  if(lmdb_exports)
    file(REMOVE ${lmdb_exports})
  endif()
  execute_process(COMMAND ${CMAKE_COMMAND} -S ${PROJECT_DIR} -B ${WORK}/build -G ${GENERATOR}
                          -DCMAKE_PREFIX_PATH=${WORK}/prefix -DCOMPONENT=${COMPONENT}
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(rc EQUAL 0)
    message(FATAL_ERROR "consumer (${MODE}): find_package(flowkit COMPONENTS ${COMPONENT}) succeeded, but must fail")
  endif()
  # CMake wraps the reason's lines: match it with the text run together.
  string(REGEX REPLACE "[ \n]+" " " said "${out}${err}")
  if(NOT said MATCHES "${REASON}")
    message(FATAL_ERROR "consumer (${MODE}): the configure failed without saying '${REASON}':\n${out}${err}")
  endif()
  message(STATUS "find_package(flowkit COMPONENTS ${COMPONENT}) fails and says: ${CMAKE_MATCH_0}")
  return()
elseif(MODE STREQUAL "find_package")
  step(${CMAKE_COMMAND} --install ${FLOWKIT_BINARY_DIR} --prefix ${WORK}/prefix)
  if(EXPECT_ADMIN)
    step(${WORK}/prefix/bin/flowkit-admin --version)  # installed beside the library, and runs
  endif()
  list(APPEND configure_args -DCMAKE_PREFIX_PATH=${WORK}/prefix -DEXPECT_LMDB=${EXPECT_LMDB})
elseif(MODE STREQUAL "add_subdirectory")
  list(APPEND configure_args -DFLOWKIT_SOURCE_DIR=${FLOWKIT_SOURCE_DIR})
else()
  message(FATAL_ERROR "MODE must be find_package or add_subdirectory, not '${MODE}'")
endif()

step(${CMAKE_COMMAND} -S ${PROJECT_DIR} -B ${WORK}/build ${configure_args})
step(${CMAKE_COMMAND} --build ${WORK}/build)
step(${WORK}/build/consumer)
