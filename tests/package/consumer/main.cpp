// A downstream project: find_package(nucleo) and one layer stack from the installed headers.
#include <nucleo/nucleo.hpp>

#include <fmt/format.h>

int main() {
  nucleo::CpuContext ctx(1);
  nucleo::Rng rng(3);
  fmt::print("nucleo {} found; first draw {}\n", nucleo::version_string, rng.uniform() < 1.0);
  return 0;
}
