# Install nucleo into a temporary prefix, then configure, build and run a consumer that uses
# find_package(nucleo). Arguments: -DSRC=<nucleo source> -DWORK=<scratch dir> -DGEN=<generator>
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "command failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
endfunction()
run(${CMAKE_COMMAND} -S ${SRC} -B ${WORK}/build -G ${GEN} -DNUCLEO_BUILD_TESTS=OFF
    -DNUCLEO_BUILD_EXAMPLES=OFF -DNUCLEO_BUILD_BENCH=OFF -DCMAKE_INSTALL_PREFIX=${WORK}/prefix)
run(${CMAKE_COMMAND} --install ${WORK}/build)
if(NOT EXISTS ${WORK}/prefix/lib/cmake/nucleo/nucleoConfig.cmake AND
   NOT EXISTS ${WORK}/prefix/lib/x86_64-linux-gnu/cmake/nucleo/nucleoConfig.cmake)
  message(FATAL_ERROR "nucleoConfig.cmake was not installed under ${WORK}/prefix")
endif()
run(${CMAKE_COMMAND} -S ${SRC}/tests/package/consumer -B ${WORK}/consumer -G ${GEN}
    -DCMAKE_PREFIX_PATH=${WORK}/prefix)
run(${CMAKE_COMMAND} --build ${WORK}/consumer)
run(${WORK}/consumer/consumer)
message(STATUS "package test: install, find_package(nucleo) and consumer build all passed")
