# ZooKeeper benchmark: the server's CPU per node for the controller's bulk
# creates and pipelined reads, NIO against Netty (docs/benchmarks.md).
if(TARGET hmc::test_support AND TARGET hmc::zookeeper)
  add_executable(zookeeper_bench ${CMAKE_CURRENT_LIST_DIR}/zookeeper_bench.cpp)
  target_link_libraries(zookeeper_bench PRIVATE hmc::test_support hmc::zookeeper hmc::common Threads::Threads)
endif()
