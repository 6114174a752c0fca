// libFuzzer target: the checkpoint loader (load_checkpoint, read_checkpoint_header) on bytes in
// memory, into a small model (Linear<4, 3> + LayerNorm<3>) with an AdamW optimizer.
//   mode 0 (first byte % 3): the rest is the file;
//   mode 1: a valid checkpoint with bytes changed as the rest says (pairs: position, xor), then its
//           CRC and trailer repaired, so that the damage reaches the parser behind the checksum;
//   mode 2: a valid checkpoint whose JSON header is replaced by the rest (lengths, alignment and
//           CRC repaired): forged headers.
// Oracle: only nucleo::Error escapes, and a refused load leaves the model and the optimizer as
// they were (nothing is copied before every check passed).
#include <zlib.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "nucleo/io/checkpoint.hpp"
#include "nucleo/layers/layer_norm.hpp"
#include "nucleo/layers/linear.hpp"
#include "nucleo/layers/sequential.hpp"
#include "nucleo/optim/adamw.hpp"

namespace {

using Net = nucleo::Sequential<nucleo::Linear<4, 3>, nucleo::LayerNorm<3>>;

/// A valid checkpoint of Net with AdamW state (written once to a temporary file and read back).
const std::string& valid_checkpoint() {
  static const std::string bytes = [] {
    Net net;
    nucleo::Rng rng(1);
    net.get<0>().init(rng);
    nucleo::AdamW<float> opt;
    nucleo::CpuContext ctx(1);
    net.visit_params([](std::string_view, auto& p) { p.grad.setConstant(0.5f); });
    opt.step(ctx, net);
    nucleo::CheckpointMeta meta;
    meta.model_type = "FuzzNet";
    meta.config = {{"model", "fuzz"}};
    meta.rng = rng.state();
    const auto path = std::filesystem::temp_directory_path() / "nucleo_fuzz_seed.ckpt";
    nucleo::save_checkpoint(path, net, meta, &opt);
    std::ifstream in(path, std::ios::binary);
    std::string b((std::istreambuf_iterator<char>(in)), {});
    std::filesystem::remove(path);
    return b;
  }();
  return bytes;
}

void put_u64(std::string& b, std::size_t at, std::uint64_t v) { std::memcpy(b.data() + at, &v, 8); }

/// Repairs the trailer (end marker and CRC of everything before it).
void repair_trailer(std::string& b) {
  if (b.size() < 16) return;
  std::memcpy(b.data() + b.size() - 16, "NCKPTEND", 8);
  const auto crc = static_cast<std::uint32_t>(crc32_z(0, reinterpret_cast<const Bytef*>(b.data()), b.size() - 16));
  std::memcpy(b.data() + b.size() - 8, &crc, 4);
}

template <class T>
std::string state_bytes(T& net, nucleo::AdamW<float>& opt) {
  std::string s;
  net.visit_params([&](std::string_view, auto& p) {
    s.append(reinterpret_cast<const char*>(p.value.data()), static_cast<std::size_t>(p.size()) * sizeof(float));
  });
  opt.visit_state([&](const std::string&, auto& a) {
    s.append(reinterpret_cast<const char*>(a.data()), static_cast<std::size_t>(a.size()) * sizeof(float));
  });
  s += opt.state_json().dump();
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const int mode = data[0] % 3;
  const std::string rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::string bytes;
  if (mode == 0) {
    bytes = rest;
  } else if (mode == 1) {
    bytes = valid_checkpoint();
    for (std::size_t i = 0; i + 2 < rest.size(); i += 3) {
      const std::size_t at = (static_cast<unsigned char>(rest[i]) << 8 | static_cast<unsigned char>(rest[i + 1])) %
                             (bytes.size() - 16);
      bytes[at] = static_cast<char>(bytes[at] ^ rest[i + 2]);
    }
    repair_trailer(bytes);
  } else {
    const std::string& v = valid_checkpoint();
    std::uint64_t hlen = 0;
    std::memcpy(&hlen, v.data() + 16, 8);
    const std::uint64_t old_blob = (24 + hlen + 63) / 64 * 64;
    const std::string blob = v.substr(old_blob, v.size() - 16 - old_blob);
    bytes = v.substr(0, 24) + rest;
    put_u64(bytes, 16, rest.size());
    bytes.resize((24 + rest.size() + 63) / 64 * 64, '\0');
    bytes += blob;
    bytes.resize(bytes.size() + 16, '\0');
    repair_trailer(bytes);
  }

  if (mode == 0) {  // raw bytes: also the header reader without the checksum (modes 1, 2 repair it)
    try {
      nucleo::read_checkpoint_header_from_memory(bytes, "fuzz.ckpt", /*verify=*/false);
    } catch (const nucleo::Error&) {
    }
  }
  Net net;
  nucleo::AdamW<float> opt;
  const std::string before = state_bytes(net, opt);
  try {
    nucleo::LoadOptions lo;
    lo.model_type = "FuzzNet";
    nucleo::load_checkpoint_from_memory(bytes, "fuzz.ckpt", net, lo, &opt);
  } catch (const nucleo::Error&) {
    if (state_bytes(net, opt) != before) __builtin_trap();  // a refused load changed the model
  }
  return 0;
}
