# Run by ctest: the systemd unit in examples/systemd, written as cmake
# --install writes it but pointed at the built notifierd, passes
# `systemd-analyze verify` without a single warning (an unknown or misspelt
# key is only a warning there).
set(NOTIFIERD_PATH "${NOTIFIERD}")
configure_file("${UNIT}" "${WORK_DIR}/notifierd.service" @ONLY)
execute_process(COMMAND "${SYSTEMD_ANALYZE}" verify "${WORK_DIR}/notifierd.service"
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0 OR NOT "${out}${err}" STREQUAL "")
  message(FATAL_ERROR "systemd-analyze verify (${rc}):\n${out}${err}")
endif()
