# Controller benchmark: N topologies written to ZooKeeper at once against a
# floor of the same group bodies POSTed straight to marathon-sim; Marathon
# requests per kind, idle CPU and memory, write-to-POST latency
# (docs/benchmarks.md, "Controller").
if(TARGET heron-marathon-controller AND TARGET marathon-sim AND TARGET hmc::test_support
   AND TARGET hmc::zookeeper AND TARGET hmc::reconciler)
  add_executable(controller_bench ${CMAKE_CURRENT_LIST_DIR}/controller_bench.cpp)
  target_link_libraries(controller_bench PRIVATE hmc::test_support hmc::zookeeper hmc::reconciler
    hmc::common Boost::json Threads::Threads)
  add_dependencies(controller_bench heron-marathon-controller marathon-sim)
endif()
