// Hdf5Labels: the test writes its own small HDF5 files with the HDF5 C API (VLEN and 2-D layouts).
#include <catch2/catch.hpp>

#if defined(NUCLEO_WITH_HDF5)
#include "nucleo/data/hdf5_labels.hpp"

#include <hdf5.h>

#include "data/temp_dir.hpp"

using namespace nucleo;
using nucleo::testing::TempDir;

namespace {
// Writes a 1-D dataset of variable-length arrays of `base` integers (BEND's layout).
void write_vlen(const std::filesystem::path& p, const std::vector<std::vector<int>>& rows, hid_t base,
                const char* name = "labels") {
  hid_t f = H5Fcreate(p.string().c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  REQUIRE(f >= 0);
  hsize_t n = rows.size();
  hid_t space = H5Screate_simple(1, &n, nullptr);
  hid_t ftype = H5Tvlen_create(base);
  hid_t mtype = H5Tvlen_create(H5T_NATIVE_INT);
  hid_t d = H5Dcreate2(f, name, ftype, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  std::vector<hvl_t> vl(rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) vl[i] = hvl_t{rows[i].size(), const_cast<int*>(rows[i].data())};
  REQUIRE(H5Dwrite(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, vl.data()) >= 0);
  H5Dclose(d);
  H5Tclose(mtype);
  H5Tclose(ftype);
  H5Sclose(space);
  H5Fclose(f);
}

void write_2d(const std::filesystem::path& p, const std::vector<std::vector<int>>& rows) {
  hid_t f = H5Fcreate(p.string().c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  hsize_t dims[2] = {rows.size(), rows[0].size()};
  hid_t space = H5Screate_simple(2, dims, nullptr);
  hid_t d = H5Dcreate2(f, "labels", H5T_STD_U8LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  std::vector<int> flat;
  for (const auto& r : rows) flat.insert(flat.end(), r.begin(), r.end());
  REQUIRE(H5Dwrite(d, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, flat.data()) >= 0);
  H5Dclose(d);
  H5Sclose(space);
  H5Fclose(f);
}

std::vector<std::int8_t> i8(std::vector<int> v) { return std::vector<std::int8_t>(v.begin(), v.end()); }
}  // namespace

TEST_CASE("Hdf5Labels: variable-length rows (BEND layout), any integer width", "[data][hdf5_labels]") {
  TempDir tmp;
  const std::vector<std::vector<int>> rows = {{8, 8, 0, 0, 1}, {}, {4, 5, 6, 7, 8, 2, 3}};
  for (hid_t base : {H5T_STD_I64LE, H5T_STD_U8LE, H5T_STD_I32BE}) {
    write_vlen(tmp / "g.h5", rows, base);
    auto h = Hdf5Labels::open(tmp / "g.h5");
    REQUIRE(h.size() == 3);
    CHECK(h.row(0) == i8(rows[0]));
    CHECK(h.row(1).empty());
    CHECK(h.row(2) == i8(rows[2]));
    CHECK(h.read_all().size() == 3);
    CHECK_THROWS_AS(h.row(3), ShapeError);
  }
}

TEST_CASE("Hdf5Labels: 2-D integer dataset", "[data][hdf5_labels]") {
  TempDir tmp;
  write_2d(tmp / "m.h5", {{0, 1, 2}, {8, 8, 8}});
  auto h = Hdf5Labels::open(tmp / "m.h5");
  CHECK(h.size() == 2);
  CHECK(h.row(1) == i8({8, 8, 8}));
}

TEST_CASE("Hdf5Labels: pairing with the BED file is checked", "[data][hdf5_labels]") {
  TempDir tmp;
  auto bed = BedTable::read(tmp.write("g.bed", "chromosome\tstart\tend\tstrand\tsplit\nchr1\t10\t15\t+\ttrain\nchr1\t0\t3\t+\ttest\n"));
  write_vlen(tmp / "ok.h5", {{8, 0, 0, 1, 2}, {8, 8, 8}}, H5T_STD_I8LE);
  CHECK_NOTHROW(Hdf5Labels::open(tmp / "ok.h5").check_against(bed, 9));
  write_vlen(tmp / "len.h5", {{8, 0, 0, 1, 2}, {8, 8}}, H5T_STD_I8LE);
  CHECK_THROWS_WITH(Hdf5Labels::open(tmp / "len.h5").check_against(bed, 9),
                    Catch::Contains("row 1 has 2 labels") && Catch::Contains("g.bed:3"));
  write_vlen(tmp / "cls.h5", {{8, 0, 0, 1, 9}, {8, 8, 8}}, H5T_STD_I8LE);
  CHECK_THROWS_WITH(Hdf5Labels::open(tmp / "cls.h5").check_against(bed, 9), Catch::Contains("label 9 is not in [0, 9)"));
  write_vlen(tmp / "rows.h5", {{8, 0, 0, 1, 2}}, H5T_STD_I8LE);
  CHECK_THROWS_WITH(Hdf5Labels::open(tmp / "rows.h5").check_against(bed, 9), Catch::Contains("1 rows"));
  write_vlen(tmp / "big.h5", {{300}}, H5T_STD_I32LE);
  CHECK_THROWS_WITH(Hdf5Labels::open(tmp / "big.h5").row(0), Catch::Contains("does not fit"));
}

TEST_CASE("Hdf5Labels: missing file, dataset or wrong type are IoErrors", "[data][hdf5_labels]") {
  TempDir tmp;
  CHECK_THROWS_WITH(Hdf5Labels::open(tmp.write("x.h5", "not hdf5")), Catch::Contains("cannot open as an HDF5 file"));
  write_vlen(tmp / "o.h5", {{1}}, H5T_STD_I8LE, "other");
  CHECK_THROWS_WITH(Hdf5Labels::open(tmp / "o.h5"), Catch::Contains("no dataset named 'labels'"));
  CHECK(Hdf5Labels::open(tmp / "o.h5", "other").row(0) == i8({1}));
}

#else
TEST_CASE("Hdf5Labels: skipped, HDF5 not found by CMake", "[data][hdf5_labels]") {
  WARN("SKIPPED: libhdf5-dev not found; nucleo/data/hdf5_labels.hpp is not built (run scripts/setup)");
}
#endif
