# Installation: headers, the exported targets and a package config for find_package(flowkit).
install(DIRECTORY include/flowkit DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
set(flowkit_targets flowkit)
if(TARGET flowkit_lmdb)
  list(APPEND flowkit_targets flowkit_lmdb)
endif()
install(TARGETS ${flowkit_targets} EXPORT flowkit-targets)
set(flowkit_cmake_dir ${CMAKE_INSTALL_DATADIR}/cmake/flowkit)
install(EXPORT flowkit-targets NAMESPACE flowkit:: DESTINATION ${flowkit_cmake_dir})
configure_package_config_file(cmake/flowkit-config.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/flowkit-config.cmake INSTALL_DESTINATION ${flowkit_cmake_dir})
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/flowkit-config-version.cmake
  COMPATIBILITY SameMinorVersion ARCH_INDEPENDENT)
install(FILES
  ${CMAKE_CURRENT_BINARY_DIR}/flowkit-config.cmake
  ${CMAKE_CURRENT_BINARY_DIR}/flowkit-config-version.cmake
  cmake/FindLMDB.cmake
  DESTINATION ${flowkit_cmake_dir})
