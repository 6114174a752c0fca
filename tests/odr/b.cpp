#include "nucleo/nucleo.hpp"
#include "nucleo_apps/all.hpp"

#include <string>

unsigned long long odr_a();

int main() {
  nucleo::CpuContext ctx(1);
  const bool same = odr_a() == nucleo::Rng(1, 2).next_u64();
  return (same && std::string(nucleo::version_string).size() > 0) ? 0 : 1;
}
