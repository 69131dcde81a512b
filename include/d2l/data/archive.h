#pragma once
/// \file d2l/data/archive.h
/// Reading the archives data sets come in: tar, gzipped or not (`cifar-10-binary.tar.gz`).
/// No LibTorch.
#include <string>

namespace d2l::data {

/// Whether `path` is named like an archive d2l unpacks: `.tar`, `.tar.gz` or `.tgz`.
bool is_archive_name(const std::string& path);

/// Extracts the regular files of a (gzipped) tar archive into `dir`, keeping their relative
/// paths, streaming (the archive is never held in memory whole). Understands ustar, GNU long
/// names and pax path records; skips links and devices. Each file is written atomically. Throws
/// d2l::Error (BadInput) naming the archive on a broken or truncated archive or on an absolute
/// path or a ".." component, and d2l::Error when `dir` cannot be written.
void extract_tar(const std::string& archive, const std::string& dir);

}  // namespace d2l::data
