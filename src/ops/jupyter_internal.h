#pragma once
// Private to src/ops/jupyter_*.cpp: the notebook's config file and random secrets, shared by
// the password, certificate and server files. Not installed.
#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>

#include "d2l/ops/jupyter.h"

namespace d2l::ops::detail {

/// The notebook's jupyter_server_config.json ({} when missing); throws d2l::Error (BadInput)
/// naming the file when it is corrupt, and never rewrites it then.
nlohmann::json load_config(const NotebookPaths& paths);
/// Writes the config atomically, 0600, in a 0700 folder.
void save_config(const NotebookPaths& paths, const nlohmann::json& j);
/// `n` bytes from /dev/urandom; throws d2l::Error when it cannot read them.
std::string random_bytes(std::size_t n);
/// `bytes` random bytes as lower-case hex (a server token).
std::string random_hex(std::size_t bytes);

}  // namespace d2l::ops::detail
