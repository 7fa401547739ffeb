# FindPQXX: libpqxx (Debian: libpqxx-dev) and the libpq under it, through pkg-config.
# Defines PQXX::PQXX. Its include directories are imported, so consumers see them as system
# headers: libpqxx's own warnings never stop a -Werror build.
find_package(PkgConfig QUIET)
if(PkgConfig_FOUND)
  pkg_check_modules(PC_PQXX QUIET libpqxx)
  pkg_check_modules(PC_PQ QUIET libpq)
endif()
find_path(PQXX_INCLUDE_DIR NAMES pqxx/pqxx HINTS ${PC_PQXX_INCLUDE_DIRS})
find_library(PQXX_LIBRARY NAMES pqxx HINTS ${PC_PQXX_LIBRARY_DIRS})
find_library(PQ_LIBRARY NAMES pq HINTS ${PC_PQ_LIBRARY_DIRS})
set(PQXX_VERSION ${PC_PQXX_VERSION})

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(PQXX
  REQUIRED_VARS PQXX_LIBRARY PQ_LIBRARY PQXX_INCLUDE_DIR
  VERSION_VAR PQXX_VERSION)

if(PQXX_FOUND AND NOT TARGET PQXX::PQXX)
  add_library(PQXX::PQXX UNKNOWN IMPORTED)
  set_target_properties(PQXX::PQXX PROPERTIES
    IMPORTED_LOCATION "${PQXX_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${PQXX_INCLUDE_DIR}"
    INTERFACE_LINK_LIBRARIES "${PQ_LIBRARY}")
endif()
mark_as_advanced(PQXX_INCLUDE_DIR PQXX_LIBRARY PQ_LIBRARY)
