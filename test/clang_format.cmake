# Fails when any C source or header is not formatted as .clang-format says.
file(GLOB_RECURSE FILES
  ${SOURCE_DIR}/provider/*.[ch] ${SOURCE_DIR}/vaultclient/*.[ch]
  ${SOURCE_DIR}/include/*.h ${SOURCE_DIR}/test/*.[ch]
  ${SOURCE_DIR}/examples/*.[ch])
list(LENGTH FILES N)
if(N EQUAL 0)
  message(FATAL_ERROR "no sources found under ${SOURCE_DIR}")
endif()
execute_process(COMMAND ${CLANG_FORMAT} --dry-run --Werror ${FILES}
                RESULT_VARIABLE RC)
if(NOT RC EQUAL 0)
  message(FATAL_ERROR "clang-format: files above are not formatted")
endif()
message(STATUS "clang-format: ${N} files formatted")
