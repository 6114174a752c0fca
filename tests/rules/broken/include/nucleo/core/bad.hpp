#pragma once
// A fixture for the include-rule check: two broken rules (core includes layers, and the apps tree).
#include "nucleo/layers/linear.hpp"
#include "nucleo_apps/cli.hpp"
