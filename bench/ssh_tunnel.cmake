if(TARGET hmc::ssh_tunnel AND TARGET hmc::test_support)
  add_executable(ssh_tunnel_bench ${CMAKE_CURRENT_SOURCE_DIR}/ssh_tunnel_bench.cpp)
  target_link_libraries(ssh_tunnel_bench PRIVATE hmc::ssh_tunnel hmc::test_support)
endif()
