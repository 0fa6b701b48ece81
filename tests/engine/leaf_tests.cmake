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
# The test's HTTPS server is cpp-httplib (header-only) on OpenSSL; the test
# creates its self-signed certificate with the `openssl` command.
target_compile_definitions(curl_transport_test PRIVATE CPPHTTPLIB_OPENSSL_SUPPORT)
target_link_libraries(curl_transport_test OpenSSL::SSL OpenSSL::Crypto)
