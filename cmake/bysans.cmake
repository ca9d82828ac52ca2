# Shared helpers for module CMakeLists.txt files.

# Warnings as errors on our own code only.
function(bysans_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Werror -Wno-missing-field-initializers)
endfunction()

# bysans_module(NAME name SOURCES ... DEPS ...): a static library for one src/ folder.
function(bysans_module)
  cmake_parse_arguments(M "" "NAME" "SOURCES;DEPS" ${ARGN})
  add_library(bysans_${M_NAME} STATIC ${M_SOURCES})
  target_include_directories(bysans_${M_NAME} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(bysans_${M_NAME} PUBLIC ${M_DEPS})
  bysans_warnings(bysans_${M_NAME})
endfunction()

# bysans_test(name SOURCES ... DEPS ...): a GoogleTest binary registered with CTest.
function(bysans_test)
  cmake_parse_arguments(T "" "NAME;TIMEOUT" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${T_NAME} ${T_SOURCES})
  target_link_libraries(${T_NAME} PRIVATE ${T_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  target_include_directories(${T_NAME} PRIVATE ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR}/tests)
  target_compile_definitions(${T_NAME} PRIVATE
    BYSANS_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
    BYSANS_BINARY_DIR="${CMAKE_BINARY_DIR}")
  bysans_warnings(${T_NAME})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  gtest_discover_tests(${T_NAME} DISCOVERY_TIMEOUT 60 PROPERTIES TIMEOUT ${T_TIMEOUT} LABELS "${T_LABELS}")
endfunction()

# The corpus replay test of a fuzz target (tests/fuzz/<parser>/, any compiler): a bysans_test
# whose CORPUS_MACRO (if given) is the path of the target's corpus/ folder.
function(bysans_fuzz_replay)
  cmake_parse_arguments(R "" "NAME;CORPUS_MACRO" "SOURCES;DEPS;LABELS" ${ARGN})
  bysans_test(NAME ${R_NAME} SOURCES ${R_SOURCES} DEPS ${R_DEPS} LABELS ${R_LABELS})
  if(R_CORPUS_MACRO)
    target_compile_definitions(${R_NAME} PRIVATE
      ${R_CORPUS_MACRO}="${CMAKE_CURRENT_SOURCE_DIR}/corpus")
  endif()
endfunction()

# The libFuzzer binary of a fuzz target, under ASan and UBSan, with clang only (`make fuzz`,
# scripts/fuzz): SOURCES linked to LIBS, with src/ and INCLUDES on the include path.
function(bysans_fuzzer)
  cmake_parse_arguments(F "" "NAME" "SOURCES;LIBS;INCLUDES" ${ARGN})
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    return()
  endif()
  add_executable(${F_NAME} ${F_SOURCES})
  target_include_directories(${F_NAME} PRIVATE ${PROJECT_SOURCE_DIR}/src ${F_INCLUDES})
  target_compile_options(${F_NAME} PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_options(${F_NAME} PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_libraries(${F_NAME} PRIVATE ${F_LIBS})
  bysans_warnings(${F_NAME})
endfunction()
