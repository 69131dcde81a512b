#pragma once
// Private to src/sys/doctor_*.cpp, cpu_info.cpp and blas.cpp: the small helpers the doctor's
// probes, BLAS classification and report share. Not installed.
#include <cctype>
#include <string>
#include <vector>

#include "d2l/sys/environment.h"

namespace d2l::sys::detail {

constexpr double kGiB = 1024.0 * 1024 * 1024;

/// A probe from its fields.
Probe make(std::string id, std::string section, std::string label, ProbeStatus status,
           std::string value, std::string hint = "");
/// BYTES as "12.3 GiB".
std::string gib(double bytes);
/// V joined with SEP between.
std::string join(const std::vector<std::string>& v, const std::string& sep);
/// S without leading and trailing white space.
std::string trim(const std::string& s);
/// S in lower case (ASCII).
std::string lower(std::string s);
/// The BLAS probes ("blas.library", "blas.openblas_core") for B on CPU; HOW says how the
/// library was found.
std::vector<Probe> blas_probes(const BlasInfo& b, const CpuFeatures& cpu, const std::string& how);

}  // namespace d2l::sys::detail
