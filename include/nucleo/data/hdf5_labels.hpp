#pragma once
/// `Hdf5Labels`: BEND's per-nucleotide label files (gene_finding.hdf5, enhancer_annotation.hdf5),
/// read with the HDF5 C API. Optional: link the CMake target `nucleo::hdf5` (created when
/// find_package(HDF5 COMPONENTS C) succeeds, e.g. with Debian's libhdf5-dev); it defines NUCLEO_WITH_HDF5.
///
/// Layout (bend.md sections 1.3 and 8.3): one dataset, by default named "labels", with one record
/// per BED row over the WHOLE BED file (not per split): row i <-> BED row i. Accepted dataset
/// shapes: 1-D of variable-length integer arrays (what BEND ships; any integer width, converted by
/// HDF5), or a 2-D integer array [rows, length]. Values must fit in int8 (gene finding: 0..8).
///
/// `check_against(bed, num_classes)` verifies the pairing: same row count, len(labels[i]) ==
/// end - start, every value in [0, num_classes); mismatches are ParseError naming the HDF5 file, the
/// row and the BED line.
#if !defined(NUCLEO_WITH_HDF5)
#error "nucleo/data/hdf5_labels.hpp needs HDF5: install HDF5 (Debian: libhdf5-dev) and link the CMake target nucleo::hdf5"
#endif

#include <hdf5.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "nucleo/core/error.hpp"
#include "nucleo/data/bed.hpp"

namespace nucleo {

namespace detail {
/// Owns one HDF5 id and closes it with `close`.
class H5Handle {
 public:
  H5Handle() = default;
  H5Handle(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
  H5Handle(H5Handle&& o) noexcept : id_(o.id_), close_(o.close_) { o.id_ = -1; }
  H5Handle& operator=(H5Handle&& o) noexcept {
    if (this != &o) {
      reset();
      id_ = o.id_;
      close_ = o.close_;
      o.id_ = -1;
    }
    return *this;
  }
  H5Handle(const H5Handle&) = delete;
  H5Handle& operator=(const H5Handle&) = delete;
  ~H5Handle() { reset(); }
  hid_t get() const noexcept { return id_; }
  bool valid() const noexcept { return id_ >= 0; }

 private:
  void reset() {
    if (id_ >= 0 && close_) close_(id_);
    id_ = -1;
  }
  hid_t id_ = -1;
  herr_t (*close_)(hid_t) = nullptr;
};

/// Silences HDF5's automatic error-stack printing while alive (errors become exceptions instead).
class H5QuietErrors {
 public:
  H5QuietErrors() {
    H5Eget_auto2(H5E_DEFAULT, &func_, &data_);
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  }
  ~H5QuietErrors() { H5Eset_auto2(H5E_DEFAULT, func_, data_); }
  H5QuietErrors(const H5QuietErrors&) = delete;
  H5QuietErrors& operator=(const H5QuietErrors&) = delete;

 private:
  H5E_auto2_t func_ = nullptr;
  void* data_ = nullptr;
};
}  // namespace detail

class Hdf5Labels {
 public:
  /// Opens `dataset` in `path`; IoError if the file or dataset is missing or has an unsupported type.
  static Hdf5Labels open(const std::filesystem::path& path, const std::string& dataset = "labels") {
    detail::H5QuietErrors quiet;
    Hdf5Labels h;
    h.path_ = path.string();
    h.file_ = detail::H5Handle(H5Fopen(h.path_.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
    if (!h.file_.valid()) throw IoError(fmt::format("{}: cannot open as an HDF5 file", h.path_));
    if (H5Lexists(h.file_.get(), dataset.c_str(), H5P_DEFAULT) <= 0)
      throw IoError(fmt::format("{}: no dataset named '{}'", h.path_, dataset));
    h.dset_ = detail::H5Handle(H5Dopen2(h.file_.get(), dataset.c_str(), H5P_DEFAULT), H5Dclose);
    if (!h.dset_.valid()) throw IoError(fmt::format("{}: cannot open dataset '{}'", h.path_, dataset));
    detail::H5Handle type(H5Dget_type(h.dset_.get()), H5Tclose);
    detail::H5Handle space(H5Dget_space(h.dset_.get()), H5Sclose);
    const int rank = H5Sget_simple_extent_ndims(space.get());
    hsize_t dims[2] = {0, 0};
    if (rank < 1 || rank > 2 || H5Sget_simple_extent_dims(space.get(), dims, nullptr) < 0)
      throw IoError(fmt::format("{}: dataset '{}' must be 1-D (variable-length rows) or 2-D, has rank {}", h.path_,
                                dataset, rank));
    h.rows_ = static_cast<std::size_t>(dims[0]);
    const H5T_class_t cls = H5Tget_class(type.get());
    if (cls == H5T_VLEN && rank == 1) {
      detail::H5Handle super(H5Tget_super(type.get()), H5Tclose);
      if (H5Tget_class(super.get()) != H5T_INTEGER)
        throw IoError(fmt::format("{}: dataset '{}' holds variable-length arrays of non-integers", h.path_, dataset));
      h.vlen_ = true;
    } else if (cls == H5T_INTEGER && rank == 2) {
      h.vlen_ = false;
      h.width_ = static_cast<std::size_t>(dims[1]);
    } else {
      throw IoError(fmt::format("{}: dataset '{}' must hold variable-length integer arrays (1-D) or integers (2-D)",
                                h.path_, dataset));
    }
    h.dataset_ = dataset;
    return h;
  }

  /// Number of rows (= BED rows).
  std::size_t size() const noexcept { return rows_; }
  const std::string& path() const noexcept { return path_; }

  /// Labels of row i.
  std::vector<std::int8_t> row(std::size_t i) const {
    if (i >= rows_) throw ShapeError(fmt::format("{}: row {} out of range ({} rows)", path_, i, rows_));
    detail::H5QuietErrors quiet;
    detail::H5Handle fspace(H5Dget_space(dset_.get()), H5Sclose);
    std::vector<std::int64_t> buf;
    if (vlen_) {
      hsize_t start[1] = {i}, count[1] = {1};
      H5Sselect_hyperslab(fspace.get(), H5S_SELECT_SET, start, nullptr, count, nullptr);
      detail::H5Handle mspace(H5Screate_simple(1, count, nullptr), H5Sclose);
      detail::H5Handle mtype(H5Tvlen_create(H5T_NATIVE_INT64), H5Tclose);
      hvl_t vl{0, nullptr};
      if (H5Dread(dset_.get(), mtype.get(), mspace.get(), fspace.get(), H5P_DEFAULT, &vl) < 0)
        throw IoError(fmt::format("{}: cannot read row {} of '{}'", path_, i, dataset_));
      const auto* p = static_cast<const std::int64_t*>(vl.p);
      buf.assign(p, p + vl.len);
#if H5_VERSION_GE(1, 12, 0)
      H5Treclaim(mtype.get(), mspace.get(), H5P_DEFAULT, &vl);
#else
      H5Dvlen_reclaim(mtype.get(), mspace.get(), H5P_DEFAULT, &vl);
#endif
    } else {
      hsize_t start[2] = {i, 0}, count[2] = {1, width_};
      H5Sselect_hyperslab(fspace.get(), H5S_SELECT_SET, start, nullptr, count, nullptr);
      detail::H5Handle mspace(H5Screate_simple(2, count, nullptr), H5Sclose);
      buf.resize(width_);
      if (width_ && H5Dread(dset_.get(), H5T_NATIVE_INT64, mspace.get(), fspace.get(), H5P_DEFAULT, buf.data()) < 0)
        throw IoError(fmt::format("{}: cannot read row {} of '{}'", path_, i, dataset_));
    }
    std::vector<std::int8_t> out(buf.size());
    for (std::size_t k = 0; k < buf.size(); ++k) {
      if (buf[k] < INT8_MIN || buf[k] > INT8_MAX)
        throw ParseError(path_, 0, fmt::format("row {} position {}: label {} does not fit a class id", i, k, buf[k]));
      out[k] = static_cast<std::int8_t>(buf[k]);
    }
    return out;
  }

  /// All rows.
  std::vector<std::vector<std::int8_t>> read_all() const {
    std::vector<std::vector<std::int8_t>> all;
    all.reserve(rows_);
    for (std::size_t i = 0; i < rows_; ++i) all.push_back(row(i));
    return all;
  }

  /// Checks row count, lengths (end - start) and value range against the BED table it belongs to.
  void check_against(const BedTable& bed, int num_classes) const {
    if (bed.size() != rows_)
      throw ParseError(path_, 0, fmt::format("'{}' has {} rows but {} has {} (row i must match BED row i over the "
                                             "whole file)",
                                             dataset_, rows_, bed.path(), bed.size()));
    for (std::size_t i = 0; i < rows_; ++i) {
      const auto r = row(i);
      const BedRow& b = bed[i];
      if (static_cast<std::int64_t>(r.size()) != b.end - b.start)
        throw ParseError(path_, 0, fmt::format("row {} has {} labels but {}:{} spans {} nucleotides", i, r.size(),
                                               bed.path(), b.line, b.end - b.start));
      for (std::size_t k = 0; k < r.size(); ++k)
        if (r[k] < 0 || r[k] >= num_classes)
          throw ParseError(path_, 0, fmt::format("row {} ({}:{}) position {}: label {} is not in [0, {})", i,
                                                 bed.path(), b.line, k, r[k], num_classes));
    }
  }

 private:
  std::string path_, dataset_;
  detail::H5Handle file_, dset_;
  std::size_t rows_ = 0, width_ = 0;
  bool vlen_ = true;
};

}  // namespace nucleo
