# Tests of service/json_value. Included by tests/service/CMakeLists.txt.
add_executable(json_value_test ${CMAKE_CURRENT_LIST_DIR}/json_value_test.cc)
target_link_libraries(json_value_test b24gate::json_value GTest::gmock GTest::gtest_main)
add_test(NAME json_value_test COMMAND json_value_test)
