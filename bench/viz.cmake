# The figure layer's benchmarks (bench/viz_bench.cpp). Included by bench/CMakeLists.txt:
#   include(${CMAKE_CURRENT_SOURCE_DIR}/viz.cmake)
# Builds build/bin/viz_bench when Google Benchmark (libbenchmark-dev) is found.
find_package(benchmark QUIET)
if(TARGET benchmark::benchmark)
  add_executable(viz_bench ${CMAKE_CURRENT_LIST_DIR}/viz_bench.cpp)
  target_link_libraries(viz_bench PRIVATE d2l_tools benchmark::benchmark d2l_warnings)
endif()
