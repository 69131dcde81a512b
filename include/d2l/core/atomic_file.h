#pragma once
/// \file d2l/core/atomic_file.h
/// Writing files so that a reader never sees half of one and a crash never loses the old one.
#include <functional>
#include <ostream>
#include <string>

namespace d2l {

/// Writes `contents` to `path` atomically: a temporary file in the same folder, fsync, rename over
/// `path`, fsync of the folder. `mode` is the new file's permission bits (0600 for secrets).
/// Throws d2l::Error naming the path on any failure; `path` is then untouched.
void write_file_atomic(const std::string& path, const std::string& contents, unsigned mode = 0644);

/// As above, with the contents produced by `writer` into a stream (for large files).
void write_file_atomic(const std::string& path, const std::function<void(std::ostream&)>& writer,
                       unsigned mode = 0644);

/// Reads a whole file; throws d2l::Error (BadInput) naming the path when it cannot.
std::string read_file(const std::string& path);

}  // namespace d2l
