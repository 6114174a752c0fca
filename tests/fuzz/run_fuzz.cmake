# Driver for the fuzz CTest tests (see CMakeLists.txt next to this file).
#   -DMODE=build -DSRC=<tests/fuzz> -DBIN=<build dir> -DCLANGXX=<clang++ or empty> -DGEN=<generator>
#   -DMODE=run   -DSRC=... -DBIN=... -DCLANGXX=... -DFUZZER=<fasta|genbank|gff|bed> -DSECONDS=<n>
# Prints NUCLEO_FUZZ_SKIPPED (the tests' SKIP_REGULAR_EXPRESSION) when clang++ is not available.
if(NOT CLANGXX)
  message("NUCLEO_FUZZ_SKIPPED: clang++ not found; install clang and libclang-rt-14-dev (scripts/setup)")
  return()
endif()

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "command failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  set(last_output "${out}\n${err}" PARENT_SCOPE)
endfunction()

if(MODE STREQUAL "build")
  set(gen_args)
  if(GEN)
    set(gen_args -G ${GEN})
  endif()
  run(${CMAKE_COMMAND} -S ${SRC} -B ${BIN} ${gen_args} -DCMAKE_BUILD_TYPE=RelWithDebInfo
      -DCMAKE_CXX_COMPILER=${CLANGXX})
  run(${CMAKE_COMMAND} --build ${BIN})
  message(STATUS "fuzzers built in ${BIN}")
elseif(MODE STREQUAL "run")
  set(exe ${BIN}/fuzz_${FUZZER})
  if(NOT EXISTS ${exe})
    message(FATAL_ERROR "${exe} is missing: the 'fuzz: build' test must pass first")
  endif()
  # New inputs go into the first (scratch) corpus directory, never into the source tree.
  set(work ${BIN}/corpus_${FUZZER})
  file(MAKE_DIRECTORY ${work})
  run(${exe} ${work} ${SRC}/corpus/${FUZZER} -max_total_time=${SECONDS} -rss_limit_mb=1024 -max_len=4096
      -print_final_stats=1)
  string(REGEX MATCH "stat::number_of_executed_units: *[0-9]+" units "${last_output}")
  message(STATUS "fuzz_${FUZZER}: ${units}, no crash")
else()
  message(FATAL_ERROR "MODE must be build or run")
endif()
