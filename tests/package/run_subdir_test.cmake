# Configure, build and run a consumer that adds nucleo with add_subdirectory() (no install).
# Arguments: -DSRC=<nucleo source> -DWORK=<scratch dir> -DGEN=<generator>
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "command failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
endfunction()
run(${CMAKE_COMMAND} -S ${SRC}/tests/package/subdir_consumer -B ${WORK} -G ${GEN} -DNUCLEO_SRC=${SRC})
run(${CMAKE_COMMAND} --build ${WORK})
run(${WORK}/consumer)
message(STATUS "package test: add_subdirectory(nucleo) and consumer build passed")
