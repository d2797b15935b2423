if(TARGET hmc::metrics)
  add_executable(metrics_bench ${CMAKE_CURRENT_SOURCE_DIR}/metrics_bench.cpp)
  target_link_libraries(metrics_bench PRIVATE hmc::metrics)
endif()
