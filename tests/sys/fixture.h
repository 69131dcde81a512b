#pragma once
// A fixture file-system tree in a fresh temporary folder, removed at the end of the test.
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace d2l::test {

class FixtureRoot {
 public:
  FixtureRoot() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "d2l-sys-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    root_ = tmpl;
  }
  ~FixtureRoot() {
    std::error_code ec;
    std::filesystem::remove_all(root_, ec);
  }
  FixtureRoot(const FixtureRoot&) = delete;
  FixtureRoot& operator=(const FixtureRoot&) = delete;
  /// Writes `text` to ROOT + `path` (absolute inside the tree), creating folders.
  void write(const std::string& path, const std::string& text) const {
    const std::filesystem::path p = root_ + path;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
  }
  void mkdir(const std::string& path) const { std::filesystem::create_directories(root_ + path); }
  const std::string& root() const { return root_; }

 private:
  std::string root_;
};

}  // namespace d2l::test
