// marathon-sim: a simulator of Marathon's v2 REST API and of a Mesos cluster.
#include "options.hpp"
#include "server.hpp"
#include "simulator.hpp"

#include <exception>
#include <iostream>

int main(int argc, char** argv) {
  using namespace hmc::marathon_sim;
  SimOptions options;
  try {
    bool help = false;
    options = parse_command_line(argc, argv, &help);
    if (help) {
      std::cout << usage();
      return 0;
    }
  } catch (const std::exception& e) {
    std::cerr << "marathon-sim: " << e.what() << "\n";
    return 2;
  }
  try {
    Simulator sim(options);
    serve(sim, options);
  } catch (const std::exception& e) {
    std::cerr << "marathon-sim: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
