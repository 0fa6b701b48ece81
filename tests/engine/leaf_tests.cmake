# Tests of the engine's leaf modules. Included by tests/engine/CMakeLists.txt;
# one executable per test file, each registered with ctest.
set(B24GATE_LEAF_TESTS_DIR ${CMAKE_CURRENT_LIST_DIR})

function(b24gate_leaf_test name)
  add_executable(${name} ${B24GATE_LEAF_TESTS_DIR}/${name}.cc)
  target_link_libraries(${name} b24gate::engine GTest::gmock GTest::gtest_main)
  add_test(NAME ${name} COMMAND ${name})
endfunction()

b24gate_leaf_test(query_encoder_test)
b24gate_leaf_test(bitrix_response_test)
b24gate_leaf_test(curl_transport_test)
# The test's HTTP(S) server is Debian's compiled cpp-httplib (found through
# pkg-config, which also supplies the feature macros its ABI depends on); the
# test creates its self-signed certificate with the `openssl` command.
find_package(PkgConfig REQUIRED)
pkg_check_modules(B24GATE_LEAF_HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
target_link_libraries(curl_transport_test PkgConfig::B24GATE_LEAF_HTTPLIB)
