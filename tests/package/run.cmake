# Proves that another CMake project can find_package(d2l) and link d2l::d2l:
# installs BUILD_DIR into WORK_DIR/prefix, configures and builds the consumer in SOURCE_DIR
# against it, runs it and checks what it prints. Any failing step is a FATAL_ERROR.
#   cmake -DBUILD_DIR=build -DSOURCE_DIR=tests/package -DWORK_DIR=build/package-test \
#         -P tests/package/run.cmake
foreach(var BUILD_DIR SOURCE_DIR WORK_DIR)
  if(NOT ${var})
    message(FATAL_ERROR "run.cmake: -D${var}=... is required")
  endif()
endforeach()

set(prefix ${WORK_DIR}/prefix)
set(consumer_build ${WORK_DIR}/consumer)
file(REMOVE_RECURSE ${prefix} ${consumer_build})

function(run_step what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "package test: ${what} failed (${rc}):\n${out}\n${err}")
  endif()
  set(step_output "${out}" PARENT_SCOPE)
endfunction()

# 1. Install.
run_step("cmake --install" ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix})
if(NOT EXISTS ${prefix}/include/d2l/d2l.h)
  message(FATAL_ERROR "package test: ${prefix}/include/d2l/d2l.h was not installed")
endif()
file(GLOB_RECURSE config ${prefix}/*/d2lConfig.cmake)
if(NOT config)
  message(FATAL_ERROR "package test: no d2lConfig.cmake under ${prefix}")
endif()

# 2. Configure the consumer with the compiler and LibTorch of the build that was installed
#    (a LibTorch from CMAKE_PREFIX_PATH, e.g. a pip wheel's, is found the same way again).
set(args -S ${SOURCE_DIR} -B ${consumer_build} -DCMAKE_PREFIX_PATH=${prefix}
         -DCMAKE_BUILD_TYPE=Release)
foreach(key CMAKE_CXX_COMPILER CMAKE_MAKE_PROGRAM CMAKE_CXX_COMPILER_LAUNCHER Torch_DIR)
  file(STRINGS ${BUILD_DIR}/CMakeCache.txt line REGEX "^${key}:[A-Z]+=")
  if(line)
    string(REGEX REPLACE "^[^=]*=" "" value "${line}")
    if(value AND NOT value MATCHES "-NOTFOUND$")
      list(APPEND args -D${key}=${value})
    endif()
  endif()
endforeach()
file(STRINGS ${BUILD_DIR}/CMakeCache.txt gen REGEX "^CMAKE_GENERATOR:INTERNAL=")
string(REGEX REPLACE "^[^=]*=" "" gen "${gen}")
if(gen)
  list(APPEND args -G ${gen})
endif()
run_step("configuring the consumer" ${CMAKE_COMMAND} ${args})

# 3. Build and run it.
run_step("building the consumer" ${CMAKE_COMMAND} --build ${consumer_build})
find_program(consumer_exe consumer PATHS ${consumer_build} NO_DEFAULT_PATH)
if(NOT consumer_exe)
  message(FATAL_ERROR "package test: the consumer was not built in ${consumer_build}")
endif()
run_step("running the consumer" ${consumer_exe})
string(STRIP "${step_output}" printed)
set(expected "^d2l package ok: lenet output \\[2, 10\\], accumulator 1.5 3.0, finite, timer ok$")
if(NOT printed MATCHES "${expected}")
  message(FATAL_ERROR "package test: the consumer printed\n  ${printed}\nexpected a match of\n  ${expected}")
endif()
message(STATUS "package test: ${printed}")
