#include "nucleo/io/checkpoint.hpp"

#include <catch2/catch.hpp>

#include "nucleo/layers/sequential.hpp"
#include "nucleo/optim/adamw.hpp"
#include "nucleo/testing/gradcheck.hpp"
#include "support/toy_layers.hpp"

#include <sys/resource.h>
#include <sys/wait.h>

#include <zlib.h>

#include <csignal>
#include <cstring>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <limits>

using namespace nucleo;
using namespace nucleo::testing;
namespace fs = std::filesystem;

namespace {
struct TempDir {
  fs::path path;
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "nucleo-ckpt-XXXXXX").string();
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}
void spit(const fs::path& p, const std::string& s) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(s.data(), static_cast<std::streamsize>(s.size()));
}

template <class M>
std::string param_bytes(M& model) {
  std::string out;
  model.visit_params([&](std::string_view, auto& p) {
    out.append(reinterpret_cast<const char*>(p.value.data()), static_cast<std::size_t>(p.size()) * sizeof(p.value[0]));
  });
  return out;
}

template <class S>
using Net = Sequential<Affine<3, 4, S>, Square<S>, Affine<4, 2, S>>;

template <class M>
void fill_grads(M& model, std::uint64_t seed) {
  Rng rng(seed, 5);
  model.visit_params([&](std::string_view, auto& p) {
    for (Index i = 0; i < p.size(); ++i) p.grad[i] = static_cast<typename std::decay_t<decltype(p)>::scalar_type>(rng.uniform(-1, 1));
  });
}

template <class S>
void round_trip() {
  TempDir dir;
  Net<S> a;
  randomize_params(a, 1);
  // values that only a bit-exact format keeps
  a.template get<0>().weight().value[0] = std::numeric_limits<S>::denorm_min();
  a.template get<0>().weight().value[1] = -S(0);
  a.template get<0>().weight().value[2] = std::numeric_limits<S>::max();
  a.template get<2>().bias().value[1] = S(1) / S(3);
  AdamW<S> opt({.lr = 0.01});
  fill_grads(a, 2);
  opt.step(a);

  CheckpointMeta meta;
  meta.model_type = "ToyNet";
  meta.config = {{"channels", 4}, {"name", "toy"}};
  Rng rng(77, 3);
  for (int i = 0; i < 5; ++i) rng.next_u64();
  meta.rng = rng.state();
  meta.epoch = 3;
  meta.step = 1234;
  meta.data_cursor = {{"batch", 17}};
  meta.metrics = nlohmann::json::array({{{"epoch", 0}, {"val_mcc", 0.25}}});
  meta.extra = {{"note", "hello"}};
  const fs::path path = dir.path / "sub" / "a.ckpt";
  save_checkpoint(path, a, meta, &opt);

  const auto h = read_checkpoint_header(path);
  CHECK(h["format"] == "nucleo-ckpt");
  CHECK(h["version"] == checkpoint_version);
  CHECK(h["lib_version"] == version_string);
  CHECK(h["model"] == "ToyNet");
  CHECK(h["checksum"] == "crc32");
  REQUIRE(h["tensors"].size() == 4 + 8);
  CHECK(h["tensors"][0]["name"] == "0.weight");
  CHECK(h["tensors"][0]["dtype"] == (std::is_same_v<S, float> ? "f32" : "f64"));
  CHECK(h["tensors"][0]["shape"] == nlohmann::json::array({4, 3}));
  CHECK(h["tensors"][1]["kind"] == "bias");
  for (const auto& t : h["tensors"]) CHECK(t["offset"].template get<std::uint64_t>() % 64 == 0);

  Net<S> b;
  AdamW<S> opt_b;
  const LoadReport r = load_checkpoint(path, b, {}, &opt_b);
  CHECK(param_bytes(a) == param_bytes(b));
  CHECK(r.used.size() == 4);
  CHECK(r.missing.empty());
  CHECK(r.unused.empty());
  CHECK(r.optimizer_loaded);
  CHECK(r.meta.model_type == "ToyNet");
  CHECK(r.meta.config == meta.config);
  REQUIRE(r.meta.rng.has_value());
  CHECK(r.meta.rng->seed == 77);
  CHECK(r.meta.rng->stream == 3);
  CHECK(r.meta.rng->counter == 5);
  CHECK(r.meta.epoch == 3);
  CHECK(r.meta.step == 1234);
  CHECK(r.meta.data_cursor == meta.data_cursor);
  CHECK(r.meta.metrics == meta.metrics);
  CHECK(r.meta.extra == meta.extra);
  // the optimizer continues exactly
  fill_grads(a, 3);
  fill_grads(b, 3);
  opt.step(a);
  opt_b.step(b);
  CHECK(param_bytes(a) == param_bytes(b));
  CHECK(opt_b.steps() == 2);
}
}  // namespace

TEST_CASE("checkpoint: round trip is bit-exact (float)", "[io][checkpoint]") { round_trip<float>(); }
TEST_CASE("checkpoint: round trip is bit-exact (double)", "[io][checkpoint]") { round_trip<double>(); }

TEST_CASE("checkpoint: a shape mismatch names the tensor and both shapes", "[io][checkpoint]") {
  TempDir dir;
  Sequential<Affine<3, 4>, Affine<4, 2>> a;
  save_checkpoint(dir.path / "a.ckpt", a, {.model_type = "A"});
  Sequential<Affine<3, 4>, Affine<4, 5>> b;
  randomize_params(b, 4);
  const std::string before = param_bytes(b);
  try {
    load_checkpoint(dir.path / "a.ckpt", b);
    FAIL("expected a ShapeError");
  } catch (const ShapeError& e) {
    const std::string msg = e.what();
    CHECK_THAT(msg, Catch::Contains("'1.weight'") && Catch::Contains("[2, 4]") && Catch::Contains("[5, 4]") &&
                        Catch::Contains("a.ckpt"));
  }
  CHECK(param_bytes(b) == before);  // nothing copied before every check passed
  CHECK_THROWS_AS(load_checkpoint(dir.path / "a.ckpt", a, {.model_type = "B"}), ConfigError);
}

TEST_CASE("checkpoint: a corrupt byte is refused by the checksum", "[io][checkpoint]") {
  TempDir dir;
  Net<double> a;
  randomize_params(a, 5);
  const fs::path path = dir.path / "c.ckpt";
  save_checkpoint(path, a, {.model_type = "ToyNet"});
  const std::string good = slurp(path);
  Net<double> b;
  for (std::size_t where : {good.size() - 40, std::size_t{60}, good.size() / 2}) {
    std::string bad = good;
    bad[where] ^= 0x10;
    spit(path, bad);
    try {
      load_checkpoint(path, b);
      FAIL("expected an IoError");
    } catch (const IoError& e) {
      CHECK_THAT(e.what(), Catch::Contains("checksum mismatch") && Catch::Contains(path.string()));
    }
    CHECK_THROWS_AS(read_checkpoint_header(path), IoError);
  }
  spit(path, "PK\3\4 this is a zip file, not a checkpoint, but long enough");
  CHECK_THROWS_WITH(load_checkpoint(path, b), Catch::Contains("not a nucleo checkpoint"));
}

TEST_CASE("checkpoint: a truncated file is refused", "[io][checkpoint]") {
  TempDir dir;
  Net<float> a;
  const fs::path path = dir.path / "t.ckpt";
  save_checkpoint(path, a, {});
  const std::string good = slurp(path);
  Net<float> b;
  for (std::size_t keep : {good.size() - 1, good.size() - 20, good.size() / 2, std::size_t{30}, std::size_t{5}}) {
    spit(path, good.substr(0, keep));
    try {
      load_checkpoint(path, b);
      FAIL("expected an IoError");
    } catch (const IoError& e) {
      CHECK_THAT(e.what(), Catch::Contains("truncated") && Catch::Contains(path.string()));
    }
  }
  CHECK_THROWS_AS(load_checkpoint(dir.path / "missing.ckpt", b), IoError);
}

TEST_CASE("checkpoint: loading a prefix reports used, missing and unused tensors", "[io][checkpoint]") {
  TempDir dir;
  using Encoder = Sequential<Affine<2, 3>, Affine<3, 3>>;
  Sequential<Encoder, Affine<3, 7>> pretrain;  // "0.*" encoder, "1.*" MLM-like head
  randomize_params(pretrain, 6);
  save_checkpoint(dir.path / "pre.ckpt", pretrain, {.model_type = "PretrainToy"});

  Sequential<Encoder, Affine<3, 2>> finetune;  // same encoder, another head
  randomize_params(finetune, 7);
  const auto head_before = finetune.get<1>().weight().value;

  // strict (default) refuses and names the first mismatching tensor by name
  CHECK_THROWS_WITH(load_checkpoint(dir.path / "pre.ckpt", finetune), Catch::Contains("'1.weight'"));

  const auto rep = load_checkpoint(dir.path / "pre.ckpt", finetune, {.prefix_map = {{"0.", "0."}}, .strict = false});
  CHECK(rep.used == std::vector<std::string>{"0.0.weight", "0.0.bias", "0.1.weight", "0.1.bias"});
  CHECK(rep.missing == std::vector<std::string>{"1.weight", "1.bias"});
  CHECK(rep.unused == std::vector<std::string>{"1.weight", "1.bias"});
  CHECK_THAT(rep.summary(), Catch::Contains("4 used, 2 missing"));
  CHECK(param_bytes(finetune.get<0>()) == param_bytes(pretrain.get<0>()));
  CHECK((finetune.get<1>().weight().value == head_before).all());

  // a prefix moved to another position: the encoder is "1." in this model
  Sequential<Affine<2, 2>, Encoder> shifted;
  const auto rep2 = load_checkpoint(dir.path / "pre.ckpt", shifted, {.prefix_map = {{"0.", "1."}}, .strict = false});
  CHECK(rep2.used == std::vector<std::string>{"1.0.weight", "1.0.bias", "1.1.weight", "1.1.bias"});
  CHECK(rep2.missing == std::vector<std::string>{"0.weight", "0.bias"});
  CHECK(param_bytes(shifted.get<1>()) == param_bytes(pretrain.get<0>()));
  // strict with a prefix map: the unused head is an error
  CHECK_THROWS_WITH(load_checkpoint(dir.path / "pre.ckpt", finetune, {.prefix_map = {{"0.", "0."}}}),
                    Catch::Contains("not in the checkpoint"));
}

TEST_CASE("checkpoint: a save that fails midway leaves the previous checkpoint untouched", "[io][checkpoint]") {
  TempDir dir;
  const fs::path path = dir.path / "last.ckpt";
  Sequential<Affine<3, 4>, Affine<4, 2>> small;
  randomize_params(small, 8);
  save_checkpoint(path, small, {.model_type = "Small"});
  const std::string before = slurp(path);

  // The child may write at most 4 KiB per file (as on a full disk); the big model needs ~35 KiB.
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::signal(SIGXFSZ, SIG_IGN);
    rlimit lim{4096, 4096};
    ::setrlimit(RLIMIT_FSIZE, &lim);
    int code = 3;
    try {
      Sequential<Affine<3, 4>, Affine<4, 2>, Affine<2, 64>, Affine<64, 64>> big;
      save_checkpoint(path, big, {.model_type = "Big"});
      code = 1;  // should not succeed
    } catch (const IoError&) {
      code = 0;
    } catch (...) {
      code = 2;
    }
    std::_Exit(code);
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(slurp(path) == before);
  for (const auto& e : fs::directory_iterator(dir.path)) CHECK(e.path().filename() == "last.ckpt");  // no temp left
  Sequential<Affine<3, 4>, Affine<4, 2>> back;
  load_checkpoint(path, back, {.model_type = "Small"});
  CHECK(param_bytes(back) == param_bytes(small));

  // and a successful save replaces it
  randomize_params(small, 9);
  save_checkpoint(path, small, {.model_type = "Small"});
  load_checkpoint(path, back);
  CHECK(param_bytes(back) == param_bytes(small));
}

namespace {
/// `bytes` (a checkpoint) with its JSON header replaced by `header` and the layout and CRC repaired.
std::string with_header(const std::string& bytes, const nlohmann::json& header) {
  std::uint64_t hlen = 0;
  std::memcpy(&hlen, bytes.data() + 16, 8);
  const std::uint64_t blob_at = (24 + hlen + 63) / 64 * 64;
  const std::string blob = bytes.substr(blob_at, bytes.size() - 16 - blob_at);
  const std::string text = header.dump();
  std::string out = bytes.substr(0, 16);
  const std::uint64_t n = text.size();
  out.append(reinterpret_cast<const char*>(&n), 8);
  out += text;
  out.resize((24 + text.size() + 63) / 64 * 64, '\0');
  out += blob;
  const auto crc = static_cast<std::uint32_t>(crc32_z(0, reinterpret_cast<const Bytef*>(out.data()), out.size()));
  const std::uint32_t zero = 0;
  out += "NCKPTEND";
  out.append(reinterpret_cast<const char*>(&crc), 4);
  out.append(reinterpret_cast<const char*>(&zero), 4);
  return out;
}
}  // namespace

TEST_CASE("checkpoint: forged headers behind a valid checksum are refused by name, and change nothing",
          "[io][checkpoint]") {
  TempDir dir;
  Net<float> a;
  randomize_params(a, 1);
  AdamW<float> opt;
  fill_grads(a, 2);
  opt.step(a);
  save_checkpoint(dir.path / "a.ckpt", a, CheckpointMeta{.model_type = "ToyNet"}, &opt);
  const std::string good = slurp(dir.path / "a.ckpt");
  const auto header = read_checkpoint_header(dir.path / "a.ckpt");
  CHECK(with_header(good, header) == good);  // the helper rebuilds a valid file

  // in memory, as from a file
  Net<float> m;
  AdamW<float> mo;
  CHECK(load_checkpoint_from_memory(good, "mem.ckpt", m, {}, &mo).optimizer_loaded);
  CHECK(param_bytes(m) == param_bytes(a));
  CHECK(read_checkpoint_header_from_memory(good, "mem.ckpt") == header);

  auto forged = [&](auto&& edit) {
    nlohmann::json h = header;
    edit(h);
    return with_header(good, h);
  };
  const std::vector<std::pair<std::string, std::string>> cases = {
      {forged([](auto& h) { h["blob_nbytes"] = "many"; }), "'blob_nbytes'"},
      {forged([](auto& h) { h["tensors"] = 3; }), "'tensors' is not a list"},
      {forged([](auto& h) { h["tensors"][0]["shape"] = {-4, 3}; }), "dimension"},
      {forged([](auto& h) { h["tensors"][0]["name"] = 7; }), "string 'name'"},
      {forged([](auto& h) { h["tensors"][1]["offset"] = std::uint64_t{1} << 62; }), "outside the"},
      {forged([](auto& h) { h["model"] = {1, 2}; }), "'model' is not a string"},
      {forged([](auto& h) { h["rng"] = "seed"; }), "'rng'"},
      {forged([](auto& h) { h["step"] = 1.5; }), "'step' is not an integer"},
      {forged([](auto& h) { h["optimizer"]["step"] = "x"; }), "malformed header"},
      // found by fuzz_checkpoint: a bad second tensor was refused after the first had been copied
      {forged([](auto& h) { h["tensors"][1]["dtype"] = "f16"; }), "unknown dtype 'f16'"},
      {forged([](auto& h) { h["tensors"][3]["nbytes"] = 4; }), "holds 4 bytes"},
      // a forged optimizer size: refused before anything is allocated for it
      {forged([](auto& h) { h["optimizer"]["params"]["0.weight"] = std::uint64_t{1} << 40; }), "more than the"},
  };
  for (const auto& [bytes, why] : cases) {
    INFO(why);
    Net<float> b;
    randomize_params(b, 9);
    AdamW<float> ob;
    fill_grads(b, 4);
    ob.step(b);
    const std::string before = param_bytes(b), state_before = ob.state_json().dump();
    try {
      load_checkpoint_from_memory(bytes, "forged.ckpt", b, {}, &ob);
      FAIL("accepted");
    } catch (const Error& e) {  // a nucleo error naming the file, not a JSON library exception
      CHECK_THAT(e.what(), Catch::Contains("forged.ckpt") && Catch::Contains(why));
    }
    CHECK(param_bytes(b) == before);
    CHECK(ob.state_json().dump() == state_before);  // the optimizer too is left as it was
  }
}
