# d2l_cli_fuzz (tests/d2l/cli_fuzz.cpp): a seeded random driver for the command line of the
# torch-free `d2l` commands, run as real processes. ctest runs it briefly with a fixed seed; a
# longer run by hand (docs/benchmarks/fuzz.md):
#   build/bin/d2l_cli_fuzz --d2l build/bin/d2l --seed 7 --seconds 300
add_executable(d2l_cli_fuzz ${CMAKE_CURRENT_LIST_DIR}/cli_fuzz.cpp)
target_link_libraries(d2l_cli_fuzz PRIVATE d2l_warnings Threads::Threads)
add_dependencies(d2l_cli_fuzz d2l_cli)
add_test(NAME d2l.cli_fuzz
         COMMAND d2l_cli_fuzz --d2l $<TARGET_FILE:d2l_cli> --seed 1 --runs 120
                 --interrupt-after 0.5 --timeout 10)
set_tests_properties(d2l.cli_fuzz PROPERTIES LABELS d2l TIMEOUT 300)
