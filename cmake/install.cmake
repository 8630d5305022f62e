# cmake --install: notifierd, the public headers and the static libraries
# with a CMake package, so that an application embeds the hub with
#   find_package(notifier CONFIG REQUIRED [COMPONENTS sqlite postgres redis])
#   target_link_libraries(app PRIVATE notifier::notifier)
# (tests/install builds such an application against an installed tree).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(NOTIFIER_EXPORTED notifier_core notifier)
set(NOTIFIER_EXPORTS_SQLITE FALSE)
set(NOTIFIER_EXPORTS_POSTGRES FALSE)
set(NOTIFIER_EXPORTS_REDIS FALSE)
if(TARGET notifier_sqlite)
  list(APPEND NOTIFIER_EXPORTED notifier_sqlite)
  set(NOTIFIER_EXPORTS_SQLITE TRUE)
endif()
if(TARGET notifier_postgres)
  # notifier_pgoutput is private to it, but a static library's private
  # dependencies link into the application too.
  list(APPEND NOTIFIER_EXPORTED notifier_postgres notifier_pgoutput)
  set(NOTIFIER_EXPORTS_POSTGRES TRUE)
endif()
if(TARGET notifier_redis)
  list(APPEND NOTIFIER_EXPORTED notifier_redis)
  set(NOTIFIER_EXPORTS_REDIS TRUE)
endif()
set(NOTIFIER_BOOST_VERSION "${Boost_MAJOR_VERSION}.${Boost_MINOR_VERSION}")

# notifier::notifier, notifier::sqlite … as the build tree spells them.
foreach(t IN LISTS NOTIFIER_EXPORTED)
  string(REGEX REPLACE "^notifier_" "" exported_name "${t}")
  if(t STREQUAL "notifier")
    set(exported_name notifier)
  endif()
  set_target_properties(${t} PROPERTIES EXPORT_NAME ${exported_name})
  target_include_directories(${t} INTERFACE $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
endforeach()

install(TARGETS ${NOTIFIER_EXPORTED} EXPORT notifierTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(TARGETS notifierd RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY include/notifier DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES ${PROJECT_BINARY_DIR}/generated/include/notifier/version.hpp
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/notifier)
install(FILES examples/notifierd.toml DESTINATION ${CMAKE_INSTALL_DATADIR}/notifier/examples)
install(FILES examples/systemd/notifierd.service DESTINATION ${CMAKE_INSTALL_DATADIR}/notifier/examples)

set(NOTIFIER_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/notifier)
install(EXPORT notifierTargets NAMESPACE notifier:: DESTINATION ${NOTIFIER_CMAKE_DIR})
configure_package_config_file(cmake/notifierConfig.cmake.in ${PROJECT_BINARY_DIR}/notifierConfig.cmake
  INSTALL_DESTINATION ${NOTIFIER_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/notifierConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/notifierConfig.cmake ${PROJECT_BINARY_DIR}/notifierConfigVersion.cmake
  DESTINATION ${NOTIFIER_CMAKE_DIR})
