#include "hmc/cli/app.hpp"

#include <exception>
#include <iostream>

int main(int argc, char** argv) {
  try {
    auto ctx = hmc::cli::process_context();
    return hmc::cli::run(std::vector<std::string>(argv + 1, argv + argc), ctx);
  } catch (const std::exception& e) {
    std::cerr << "heron-marathon: internal error: " << e.what() << "\n";
    return hmc::cli::exit_failed;
  }
}
