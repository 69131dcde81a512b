include(CMakePackageConfigHelpers)
set(D2L_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/d2l)
set(D2L_INSTALL_TARGETS d2l_tools)
if(D2L_WITH_TORCH)
  list(APPEND D2L_INSTALL_TARGETS d2l)
endif()
install(TARGETS ${D2L_INSTALL_TARGETS} EXPORT d2lTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/d2l DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT d2lTargets NAMESPACE d2l:: DESTINATION ${D2L_CMAKE_DIR})
set(D2L_CONFIG_WITH_TORCH ${D2L_WITH_TORCH})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/d2lConfig.cmake.in
                              ${CMAKE_BINARY_DIR}/d2lConfig.cmake INSTALL_DESTINATION ${D2L_CMAKE_DIR})
write_basic_package_version_file(${CMAKE_BINARY_DIR}/d2lConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/d2lConfig.cmake ${CMAKE_BINARY_DIR}/d2lConfigVersion.cmake
        DESTINATION ${D2L_CMAKE_DIR})
# d2l cost's instance catalogue (found at <prefix>/share/d2l/catalog/aws.csv beside bin/d2l).
install(DIRECTORY ${PROJECT_SOURCE_DIR}/data/catalog DESTINATION ${CMAKE_INSTALL_DATADIR}/d2l)
