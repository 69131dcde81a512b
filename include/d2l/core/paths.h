#pragma once
/// \file d2l/core/paths.h
/// Where d2l keeps its files (configuration and state, the download cache), the running
/// executable's folder, and the small file-system helpers every area shares.
#include <string>

namespace d2l {

/// The folder for d2l's own configuration and state: `$D2L_CONFIG_DIR`, else
/// `$XDG_CONFIG_HOME/d2l`, else `$HOME/.config/d2l`. Not created. Throws d2l::Error when neither
/// D2L_CONFIG_DIR nor HOME is set.
std::string config_dir();

/// The user's cache for downloads: `$XDG_CACHE_HOME/d2l`, else `$HOME/.cache/d2l`, else
/// `/tmp/.cache/d2l` when HOME is not set. Not created.
std::string cache_dir();

/// Creates `dir` and its parents when missing (new folders get `mode`). Throws d2l::Error naming
/// the folder when it cannot, or when a file that is not a folder stands in its place.
void ensure_dir(const std::string& dir, unsigned mode = 0700);

/// True when a file exists at `path` (any type).
bool path_exists(const std::string& path);

/// The folder of the running executable (from /proc/self/exe), "" when unknown.
std::string executable_dir();

}  // namespace d2l
