# marathon-sim benchmark: loads 10,000 apps in 5,000 groups over loopback and
# times POSTs, offer cycles and GET of the root group (docs/benchmarks.md).
if(TARGET marathon-sim AND TARGET hmc::test_support)
  add_executable(marathon_sim_bench ${CMAKE_CURRENT_LIST_DIR}/marathon_sim_bench.cpp)
  target_link_libraries(marathon_sim_bench PRIVATE hmc::test_support Threads::Threads)
  add_dependencies(marathon_sim_bench marathon-sim)
endif()
