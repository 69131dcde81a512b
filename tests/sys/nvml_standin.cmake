# The NVML stand-in (see nvml_standin.c): a shared library the sys and d2l tests load in place
# of libnvidia-ml.so.1, through the path in D2L_NVML_STANDIN.
add_library(d2l_nvml_standin SHARED ${CMAKE_CURRENT_LIST_DIR}/nvml_standin.c)
set_target_properties(d2l_nvml_standin PROPERTIES OUTPUT_NAME nvml_standin C_VISIBILITY_PRESET default)
foreach(t test_sys test_d2l)
  if(TARGET ${t})
    add_dependencies(${t} d2l_nvml_standin)
    target_compile_definitions(${t} PRIVATE D2L_NVML_STANDIN="$<TARGET_FILE:d2l_nvml_standin>")
  endif()
endforeach()
