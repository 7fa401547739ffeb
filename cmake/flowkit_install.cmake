# Installation: headers, the exported targets and a package config for find_package(flowkit).
install(DIRECTORY include/flowkit DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
# The core and flowkit::lmdb go to two export files: the package config loads the second only
# where LMDB and Boost.Serialization are found, as the `lmdb` component.
set(flowkit_cmake_dir ${CMAKE_INSTALL_DATADIR}/cmake/flowkit)
install(TARGETS flowkit EXPORT flowkit-targets)
install(EXPORT flowkit-targets NAMESPACE flowkit:: DESTINATION ${flowkit_cmake_dir})
if(TARGET flowkit_lmdb)
  install(TARGETS flowkit_lmdb EXPORT flowkit-lmdb-targets)
  install(EXPORT flowkit-lmdb-targets NAMESPACE flowkit:: DESTINATION ${flowkit_cmake_dir})
endif()
# flowkit::postgres likewise, as the `postgres` component, where libpqxx is found.
if(TARGET flowkit_postgres)
  install(TARGETS flowkit_postgres EXPORT flowkit-postgres-targets)
  install(EXPORT flowkit-postgres-targets NAMESPACE flowkit:: DESTINATION ${flowkit_cmake_dir})
endif()
configure_package_config_file(cmake/flowkit-config.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/flowkit-config.cmake INSTALL_DESTINATION ${flowkit_cmake_dir})
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/flowkit-config-version.cmake
  COMPATIBILITY SameMinorVersion ARCH_INDEPENDENT)
install(FILES
  ${CMAKE_CURRENT_BINARY_DIR}/flowkit-config.cmake
  ${CMAKE_CURRENT_BINARY_DIR}/flowkit-config-version.cmake
  cmake/FindLMDB.cmake
  cmake/FindPQXX.cmake
  DESTINATION ${flowkit_cmake_dir})
# flowkit-admin, where tools/ built it (FLOWKIT_BUILD_TOOLS, with CLI11 and nlohmann-json found).
if(TARGET flowkit-admin)
  install(TARGETS flowkit-admin RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()
