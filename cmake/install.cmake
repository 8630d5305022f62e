# cmake --install: notifierd, the public headers and the static libraries
# with a CMake package, so that an application embeds the hub with
#   find_package(notifier CONFIG REQUIRED [COMPONENTS sqlite postgres redis])
#   target_link_libraries(app PRIVATE notifier::notifier)
# (tests/install builds such an application against an installed tree).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# The core, and each component in an export set of its own, so that
# find_package looks for a component's dependencies (SQLite, libpq,
# hiredis) only when that component is asked for.
set(NOTIFIER_EXPORTED notifier_core notifier)
set(NOTIFIER_COMPONENTS "")
if(TARGET notifier_sqlite)
  list(APPEND NOTIFIER_COMPONENTS sqlite)
  set(NOTIFIER_COMPONENT_TARGETS_sqlite notifier_sqlite)
endif()
if(TARGET notifier_postgres)
  # notifier_pgoutput is private to it, but a static library's private
  # dependencies link into the application too.
  list(APPEND NOTIFIER_COMPONENTS postgres)
  set(NOTIFIER_COMPONENT_TARGETS_postgres notifier_postgres notifier_pgoutput)
endif()
if(TARGET notifier_redis)
  list(APPEND NOTIFIER_COMPONENTS redis)
  set(NOTIFIER_COMPONENT_TARGETS_redis notifier_redis)
endif()
set(NOTIFIER_BOOST_VERSION "${Boost_MAJOR_VERSION}.${Boost_MINOR_VERSION}")

# notifier::notifier, notifier::sqlite … as the build tree spells them.
set(all_exported ${NOTIFIER_EXPORTED})
foreach(c IN LISTS NOTIFIER_COMPONENTS)
  list(APPEND all_exported ${NOTIFIER_COMPONENT_TARGETS_${c}})
endforeach()
foreach(t IN LISTS all_exported)
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
foreach(c IN LISTS NOTIFIER_COMPONENTS)
  install(TARGETS ${NOTIFIER_COMPONENT_TARGETS_${c}} EXPORT notifier_${c}_targets
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
endforeach()
install(TARGETS notifierd RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY include/notifier DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES ${PROJECT_BINARY_DIR}/generated/include/notifier/version.hpp
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/notifier)
install(FILES examples/notifierd.toml DESTINATION ${CMAKE_INSTALL_DATADIR}/notifier/examples)
# The systemd unit names notifierd by its installed path: written at install
# time, so that `cmake --install --prefix P` and DESTDIR are honoured.
install(CODE "
  set(NOTIFIERD_PATH \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}/notifierd\")
  set(unit \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_DATADIR}/notifier/examples/notifierd.service\")
  message(STATUS \"Installing: \${unit}\")
  configure_file(\"${PROJECT_SOURCE_DIR}/examples/systemd/notifierd.service.in\" \"\${unit}\" @ONLY)
")
# The documentation and the licence.
install(DIRECTORY docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR} FILES_MATCHING PATTERN "*.md" PATTERN "*.png")
install(FILES README.md LICENSE DESTINATION ${CMAKE_INSTALL_DOCDIR})

set(NOTIFIER_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/notifier)
install(EXPORT notifierTargets NAMESPACE notifier:: DESTINATION ${NOTIFIER_CMAKE_DIR})
foreach(c IN LISTS NOTIFIER_COMPONENTS)
  install(EXPORT notifier_${c}_targets NAMESPACE notifier:: DESTINATION ${NOTIFIER_CMAKE_DIR})
endforeach()
configure_package_config_file(cmake/notifierConfig.cmake.in ${PROJECT_BINARY_DIR}/notifierConfig.cmake
  INSTALL_DESTINATION ${NOTIFIER_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/notifierConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/notifierConfig.cmake ${PROJECT_BINARY_DIR}/notifierConfigVersion.cmake
  DESTINATION ${NOTIFIER_CMAKE_DIR})
