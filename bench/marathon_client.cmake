# Requests per second of the Marathon client against the in-process test server.
if(TARGET hmc::marathon)
  add_executable(marathon_client_bench
    ${CMAKE_CURRENT_SOURCE_DIR}/marathon_client_bench.cpp
    ${PROJECT_SOURCE_DIR}/test/integration/marathon/test_server.cpp)
  target_include_directories(marathon_client_bench PRIVATE ${PROJECT_SOURCE_DIR}/test/integration/marathon)
  target_link_libraries(marathon_client_bench PRIVATE
    hmc::marathon hmc::test_support Boost::headers OpenSSL::SSL OpenSSL::Crypto Threads::Threads)
endif()
