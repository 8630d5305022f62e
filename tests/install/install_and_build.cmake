# Run by ctest (tests/install/CMakeLists.txt): install, build the consumer
# against the installed tree only, run it, and ask the installed notifierd
# for its version.
file(REMOVE_RECURSE "${WORK_DIR}")

function(run what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${what} failed (${rc}):\n${out}\n${err}")
  endif()
  set(last_output "${out}" PARENT_SCOPE)
endfunction()

run("cmake --install" ${CMAKE_COMMAND} --install "${BUILD_DIR}" --prefix "${WORK_DIR}/prefix")
foreach(f include/notifier/notifier.hpp include/notifier/version.hpp include/notifier/source/sqlite_source.hpp
          lib/cmake/notifier/notifierConfig.cmake bin/notifierd)
  if(NOT EXISTS "${WORK_DIR}/prefix/${f}")
    message(FATAL_ERROR "not installed: ${f}")
  endif()
endforeach()

# The unit names the installed notifierd; the documentation and the licence
# are installed beside it.
file(READ "${WORK_DIR}/prefix/share/notifier/examples/notifierd.service" unit)
string(FIND "${unit}" "\nExecStart=${WORK_DIR}/prefix/bin/notifierd " at)
if(at EQUAL -1)
  message(FATAL_ERROR "the installed unit does not start ${WORK_DIR}/prefix/bin/notifierd:\n${unit}")
endif()
foreach(f share/doc/notifier/protocol.md share/doc/notifier/configuration.md share/doc/notifier/README.md
          share/doc/notifier/LICENSE)
  if(NOT EXISTS "${WORK_DIR}/prefix/${f}")
    message(FATAL_ERROR "not installed: ${f}")
  endif()
endforeach()
# Only the components asked for are looked for and loaded: without
# COMPONENTS there is no notifier::sqlite and no SQLite, libpq or hiredis is
# required; a component that was not built is reported as such.
file(WRITE "${WORK_DIR}/core/CMakeLists.txt" [=[
cmake_minimum_required(VERSION 3.25)
project(notifier_core_only LANGUAGES CXX)
find_package(notifier CONFIG REQUIRED)
foreach(t notifier::sqlite notifier::postgres notifier::redis SQLite::SQLite3 PkgConfig::LIBPQ PkgConfig::HIREDIS)
  if(TARGET ${t})
    message(FATAL_ERROR "${t} is defined although no component was asked for")
  endif()
endforeach()
find_package(notifier CONFIG COMPONENTS no_such_component)
if(notifier_FOUND)
  message(FATAL_ERROR "an unknown component was found")
endif()
]=])
run("configuring a core-only consumer" ${CMAKE_COMMAND} -S "${WORK_DIR}/core" -B "${WORK_DIR}/core-build"
    "-DCMAKE_CXX_COMPILER=${CXX}" "-DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix" -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF)

run("configuring the consumer" ${CMAKE_COMMAND} -S "${CONSUMER_DIR}" -B "${WORK_DIR}/build" -G Ninja
    "-DCMAKE_CXX_COMPILER=${CXX}" -DCMAKE_BUILD_TYPE=Release "-DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix"
    -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF)
run("building the consumer" ${CMAKE_COMMAND} --build "${WORK_DIR}/build")
run("running the consumer" "${WORK_DIR}/build/consumer" "${WORK_DIR}/app.db")
if(NOT last_output MATCHES "^ok ${VERSION}\n$")
  message(FATAL_ERROR "the consumer printed: ${last_output}")
endif()

run("notifierd --version" "${WORK_DIR}/prefix/bin/notifierd" --version)
if(NOT last_output MATCHES "^notifierd ${VERSION}")
  message(FATAL_ERROR "notifierd --version printed: ${last_output}")
endif()
message(STATUS "installed, found, built and ran against notifier ${VERSION}")
