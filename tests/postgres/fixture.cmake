# The tests' PostgreSQL server, where flowkit::postgres is defined and PostgreSQL's server
# programs are installed (Debian: postgresql): a CTest fixture starts one for the whole run
# (postgres.server.start) and stops it at the end (postgres.server.stop). Its directory is in
# the temporary directory, which the server's user can reach (when the tests run as root the
# server runs as nobody; see pg_server.sh), named after this build tree.
#
# flowkit_pg_test(target): compiles target's PostgreSQL tests (FLOWKIT_TEST_POSTGRES) and makes
# its CTest tests use the fixture; FLOWKIT_PG_TEST_PROPERTIES is what flowkit_add_test must pass
# to catch_discover_tests for that.
set(FLOWKIT_TEST_POSTGRES OFF)
set(FLOWKIT_PG_TEST_PROPERTIES "")
if(TARGET flowkit::postgres)
  file(GLOB pg_bindirs LIST_DIRECTORIES true /usr/lib/postgresql/*/bin)
  list(SORT pg_bindirs COMPARE NATURAL ORDER DESCENDING)
  find_program(FLOWKIT_PG_INITDB initdb HINTS ${pg_bindirs})
  if(FLOWKIT_PG_INITDB)
    set(FLOWKIT_TEST_POSTGRES ON)
    get_filename_component(FLOWKIT_PG_BINDIR "${FLOWKIT_PG_INITDB}" DIRECTORY)
    set(FLOWKIT_PG_SERVER_SCRIPT "${CMAKE_CURRENT_LIST_DIR}/pg_server.sh")
    if(DEFINED ENV{TMPDIR} AND NOT "$ENV{TMPDIR}" STREQUAL "")
      set(pg_tmp "$ENV{TMPDIR}")
    else()
      set(pg_tmp "/tmp")
    endif()
    string(MD5 pg_tag "${CMAKE_BINARY_DIR}")
    string(SUBSTRING "${pg_tag}" 0 12 pg_tag)
    set(FLOWKIT_TEST_PG_DIR "${pg_tmp}/flowkit-pg-${pg_tag}")
    add_test(NAME postgres.server.start
             COMMAND sh ${FLOWKIT_PG_SERVER_SCRIPT} start ${FLOWKIT_TEST_PG_DIR} ${FLOWKIT_PG_BINDIR})
    set_tests_properties(postgres.server.start PROPERTIES FIXTURES_SETUP postgres TIMEOUT 120 LABELS postgres)
    add_test(NAME postgres.server.stop
             COMMAND sh ${FLOWKIT_PG_SERVER_SCRIPT} stop ${FLOWKIT_TEST_PG_DIR} ${FLOWKIT_PG_BINDIR})
    set_tests_properties(postgres.server.stop PROPERTIES FIXTURES_CLEANUP postgres TIMEOUT 120 LABELS postgres)
    set(FLOWKIT_PG_TEST_PROPERTIES FIXTURES_REQUIRED postgres ENVIRONMENT "FLOWKIT_TEST_PG_DIR=${FLOWKIT_TEST_PG_DIR}")
  else()
    message(STATUS "flowkit: the PostgreSQL tests are not built: no initdb (Debian: postgresql)")
  endif()
endif()

function(flowkit_pg_test target)
  target_sources(${target} PRIVATE ${CMAKE_CURRENT_FUNCTION_LIST_DIR}/lsan_suppressions.cpp)
  target_link_libraries(${target} PRIVATE flowkit::postgres)
  target_compile_definitions(${target} PRIVATE FLOWKIT_TEST_POSTGRES
                             FLOWKIT_PG_SERVER_SCRIPT="${FLOWKIT_PG_SERVER_SCRIPT}"
                             FLOWKIT_PG_BINDIR="${FLOWKIT_PG_BINDIR}")
endfunction()
