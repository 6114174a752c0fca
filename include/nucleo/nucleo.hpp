#pragma once
/// nucleo: header-only C++20 deep learning for DNA sequence models. Including this umbrella header
/// brings in the whole public API; each header can also be included on its own.
#include "nucleo/version.hpp"

#include "nucleo/core/concepts.hpp"
#include "nucleo/core/context.hpp"
#include "nucleo/core/error.hpp"
#include "nucleo/core/labels.hpp"
#include "nucleo/core/param.hpp"
#include "nucleo/core/rng.hpp"
#include "nucleo/core/tensor.hpp"

#include "nucleo/layers/repeat.hpp"
#include "nucleo/layers/residual.hpp"
#include "nucleo/layers/sequential.hpp"
