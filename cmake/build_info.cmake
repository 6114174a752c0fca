# Run at build time (cmake -P): writes OUTPUT, a header naming the source's git commit, the build type
# and the compiler flags, so that a program can record how it was built beside its results. The file
# is rewritten only when its content changes (no needless recompiles).
#   -DSOURCE_DIR=... -DOUTPUT=... -DBUILD_TYPE=... -DFLAGS=...
set(commit "unknown")
find_package(Git QUIET)
if(GIT_FOUND)
  execute_process(COMMAND ${GIT_EXECUTABLE} -C ${SOURCE_DIR} rev-parse HEAD OUTPUT_VARIABLE _head
                  RESULT_VARIABLE _rc OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  if(_rc EQUAL 0)
    set(commit "${_head}")
    execute_process(COMMAND ${GIT_EXECUTABLE} -C ${SOURCE_DIR} status --porcelain --untracked-files=no
                    OUTPUT_VARIABLE _dirty OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
    if(NOT "${_dirty}" STREQUAL "")
      set(commit "${commit}-dirty")
    endif()
  endif()
endif()
string(REPLACE "\\" "\\\\" FLAGS "${FLAGS}")
string(REPLACE "\"" "\\\"" FLAGS "${FLAGS}")
string(STRIP "${FLAGS}" FLAGS)
set(content "#pragma once
// Generated at build time by cmake/build_info.cmake: how this program was built.
#define NUCLEO_BUILD_GIT_COMMIT \"${commit}\"
#define NUCLEO_BUILD_TYPE \"${BUILD_TYPE}\"
#define NUCLEO_BUILD_FLAGS \"${FLAGS}\"
")
if(EXISTS "${OUTPUT}")
  file(READ "${OUTPUT}" old)
endif()
if(NOT "${old}" STREQUAL "${content}")
  file(WRITE "${OUTPUT}" "${content}")
endif()
