#pragma once
/// nucleo's version, also written into every checkpoint header.
#define NUCLEO_VERSION_MAJOR 0
#define NUCLEO_VERSION_MINOR 1
#define NUCLEO_VERSION_PATCH 0

namespace nucleo {
inline constexpr const char* version_string = "0.1.0";
}  // namespace nucleo
