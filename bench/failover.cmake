# Leader failover benchmark: two real controller replicas, SIGTERM and SIGKILL
# of the leader, time until the standby acts (docs/benchmarks.md).
if(TARGET heron-marathon-controller AND TARGET marathon-sim AND TARGET hmc::test_support)
  add_executable(failover_bench ${CMAKE_CURRENT_LIST_DIR}/failover_bench.cpp
    ${CMAKE_SOURCE_DIR}/test/integration/ha/ha_rig.cpp)
  target_link_libraries(failover_bench PRIVATE hmc::test_support hmc::zookeeper Boost::json Threads::Threads)
  add_dependencies(failover_bench heron-marathon-controller marathon-sim)
endif()
