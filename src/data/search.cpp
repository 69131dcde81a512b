// The one search order of the data sets (registry.h): where their files are looked for, archives
// unpacked into the cache, and the messages when a place holds only some files or none does.
#include <sys/stat.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "d2l/core/error.h"
#include "d2l/data/registry.h"

namespace fs = std::filesystem;

namespace d2l::data {
namespace {

bool is_file(const std::string& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

bool is_dir(const std::string& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool is_user(Origin o) { return o == Origin::DataDir || o == Origin::DataDirEnv; }

std::string base_name(const std::string& path) {
  std::string p = path;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  const auto slash = p.find_last_of('/');
  return slash == std::string::npos ? p : p.substr(slash + 1);
}

// "a", "a and b", "a, b and c" (`word` "and" or "or"); with `serial`, "a, or b" and "a, b, or c"
// (for clauses).
std::string join_list(const std::vector<std::string>& items, const std::string& word,
                      bool serial = false) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += i + 1 == items.size() ? (serial ? ", " : " ") + word + " " : ", ";
    out += items[i];
  }
  return out;
}

// Which of the data set's files a folder holds (each as is or gzipped).
struct FolderState {
  std::vector<std::string> present, missing;
};

FolderState inspect(const DatasetInfo& info, const std::string& dir) {
  FolderState st;
  if (!is_dir(dir)) {
    for (const auto* files : {&info.train_files, &info.test_files})
      st.missing.insert(st.missing.end(), files->begin(), files->end());
    return st;
  }
  bool gz = false;
  for (const auto* files : {&info.train_files, &info.test_files})
    for (const auto& f : *files) {
      if (is_file(dir + "/" + f)) {
        st.present.push_back(f);
      } else if (is_file(dir + "/" + f + ".gz")) {
        st.present.push_back(f + ".gz");
        gz = true;
      } else {
        st.missing.push_back(f);
      }
    }
  // Name the missing files as their companions are named.
  if (gz)
    for (auto& m : st.missing) m += ".gz";
  return st;
}

// The folder of CIFAR-10's Python version at or below `dir`, or "".
std::string python_version_at(const std::string& dir) {
  if (is_file(dir + "/data_batch_1") && is_file(dir + "/batches.meta")) return dir;
  if (is_dir(dir + "/cifar-10-batches-py")) return dir + "/cifar-10-batches-py";
  return "";
}

std::string python_version_error(const DatasetInfo& info, const std::string& where) {
  return info.name + ": " + where +
         " holds CIFAR-10's Python version; d2l reads the binary version (the folder "
         "cifar-10-batches-bin, from " +
         info.mirrors.front() + info.downloads.front().name + ")";
}

std::string missing_error(const DatasetInfo& info, const std::string& where,
                          const FolderState& st) {
  return info.name + ": " + where + ": " + join_list(st.missing, "and") + " missing";
}

bool offline_env() {
  const char* off = std::getenv("D2L_OFFLINE");
  return off && *off && std::string(off) != "0";
}

// The data folder and who named it: --data-dir, else $D2L_DATA_DIR.
std::pair<std::string, Origin> data_folder(const std::string& data_dir) {
  if (!data_dir.empty()) return {data_dir, Origin::DataDir};
  const char* env = std::getenv("D2L_DATA_DIR");
  return {env && *env ? env : "", Origin::DataDirEnv};
}

std::string origin_label(Origin o) { return o == Origin::DataDir ? "--data-dir" : "$D2L_DATA_DIR"; }

// The folder below `root` (root itself or one of the usual folders) holding every file.
// Throws when the archive unpacked at `root` holds none or only some of them.
std::string folder_in_unpacked(const DatasetInfo& info, const std::string& root,
                               const std::string& archive) {
  std::vector<std::string> cands{root};
  for (const auto& f : info.folders) cands.push_back(root + "/" + f);
  for (const auto& c : cands)
    if (inspect(info, c).missing.empty()) return c;
  for (const auto& c : cands) {
    const FolderState st = inspect(info, c);
    if (!st.present.empty())
      throw bad_input(missing_error(info, archive + " (unpacked in " + c + ")", st));
  }
  if (info.format == "cifar10")
    for (const auto& c : cands)
      if (!python_version_at(c).empty()) throw bad_input(python_version_error(info, archive));
  throw bad_input(info.name + ": " + archive + ": holds none of the data set's files (" +
                  join_list(info.train_files, "and") + ", " + join_list(info.test_files, "and") +
                  ")");
}

std::string hex64(std::uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016" PRIx64, v);
  return buf;
}

}  // namespace

std::vector<SearchLocation> search_locations(const std::string& name, const std::string& data_dir) {
  const DatasetInfo& info = dataset_info(name);
  std::vector<SearchLocation> out;
  const auto [dir, origin] = data_folder(data_dir);
  if (!dir.empty()) {
    const std::string label = origin_label(origin);
    if (is_file(dir)) {
      out.push_back({dir, true, origin, label + " (an archive, unpacked once into the cache)"});
    } else {
      out.push_back({dir, false, origin, label});
      for (const auto& f : info.folders) {
        const bool torchvision = f.find("/raw") != std::string::npos;
        out.push_back({dir + "/" + f, false, origin,
                       torchvision ? label + "'s torchvision layout (" + f + "/)"
                                   : label + "'s " + f + "/ folder"});
      }
      for (const auto& d : info.downloads)
        if (is_archive_name(d.name))
          out.push_back({dir + "/" + d.name, true, origin,
                         label + "'s " + d.name + " (the official archive, SHA-256 checked)"});
    }
  }
  if (!info.debian_dir.empty())
    out.push_back(
        {info.debian_dir, false, Origin::Debian, "Debian's package " + info.debian_package});
  out.push_back({default_cache_dir() + "/" + info.cache_folder, false, Origin::Cache,
                 "the cache (downloads go there)"});
  return out;
}

std::string search_order_help() {
  std::vector<std::string> parents, torchvision, archives;
  for (const auto& n : dataset_names()) {
    const DatasetInfo& info = dataset_info(n);
    parents.push_back(info.folders.front() + "/");
    for (const auto& f : info.folders)
      if (f.find("/raw") != std::string::npos) torchvision.push_back(f + "/");
    for (const auto& d : info.downloads)
      if (is_archive_name(d.name)) archives.push_back(d.name);
  }
  return "Where data sets are looked for (the first place holding every file wins):\n"
         "  1. --data-dir D, else $D2L_DATA_DIR. D may be the folder holding the files (gzipped "
         "or\n"
         "     not); its parent, with " +
         join_list(parents, "or") +
         " below it;\n"
         "     torchvision's layout (" +
         join_list(torchvision, "or") +
         "); or an archive (.tar.gz, .tgz, .tar;\n"
         "     " +
         join_list(archives, "or") +
         " is SHA-256 checked), unpacked once into the cache.\n"
         "  2. Debian's /usr/share/datasets/fashion-mnist (apt-get install "
         "dataset-fashion-mnist).\n"
         "  3. The cache, $XDG_CACHE_HOME/d2l or ~/.cache/d2l, where a missing data set is\n"
         "     downloaded (SHA-256 checked) unless --no-download or D2L_OFFLINE=1.\n"
         "Nothing is written beside your data.";
}

std::optional<FoundDataset> find_dataset(const DatasetInfo& info, const std::string& data_dir) {
  const auto locations = search_locations(info.name, data_dir);
  std::string partial_error, python_error;
  bool user_checked = false;
  // The data folder is the user's: one that holds only some files is an error, not a reason to
  // look elsewhere.
  auto check_user = [&] {
    user_checked = true;
    if (!partial_error.empty()) throw bad_input(partial_error);
    if (!python_error.empty()) throw bad_input(python_error);
  };
  for (const auto& loc : locations) {
    if (!is_user(loc.origin) && !user_checked) check_user();
    if (loc.archive) {
      if (!is_file(loc.path)) continue;
      if (!is_archive_name(loc.path))
        throw bad_input(info.name + ": " + loc.path + " (" + origin_label(loc.origin) +
                        ") is a file, not a folder or a .tar, .tar.gz or .tgz archive: name the "
                        "folder that holds the data set's files");
      const std::string unpacked = unpacked_dir(info, loc.path);
      if (is_dir(unpacked))
        return FoundDataset{folder_in_unpacked(info, unpacked, loc.path), loc.path, loc};
      return FoundDataset{"", loc.path, loc};
    }
    const FolderState st = inspect(info, loc.path);
    if (st.missing.empty()) return FoundDataset{loc.path, "", loc};
    if (is_user(loc.origin)) {
      if (!st.present.empty() && partial_error.empty())
        partial_error = missing_error(info, loc.path, st);
      if (info.format == "cifar10" && python_error.empty())
        if (const std::string py = python_version_at(loc.path); !py.empty())
          python_error = python_version_error(info, py);
    }
  }
  if (!user_checked) check_user();
  return std::nullopt;
}

std::string unpacked_dir(const DatasetInfo& info, const std::string& archive) {
  std::error_code ec;
  const std::string abs = fs::absolute(archive, ec).lexically_normal().string();
  struct stat st {};
  ::stat(archive.c_str(), &st);
  // FNV-1a of the archive's path, size and time: a changed archive is unpacked anew.
  const std::string key = abs + "\n" + std::to_string(st.st_size) + "\n" +
                          std::to_string(st.st_mtim.tv_sec) + "." +
                          std::to_string(st.st_mtim.tv_nsec);
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : key) h = (h ^ c) * 1099511628211ull;
  std::string stem = base_name(archive);
  for (const char* ext : {".tar.gz", ".tgz", ".tar"}) {
    const std::string e = ext;
    if (stem.size() > e.size() && stem.compare(stem.size() - e.size(), e.size(), e) == 0) {
      stem.resize(stem.size() - e.size());
      break;
    }
  }
  return default_cache_dir() + "/" + info.name + "/unpacked/" + stem + "-" + hex64(h).substr(0, 12);
}

std::string unpack_dataset_archive(const DatasetInfo& info, const std::string& archive) {
  const std::string dest = unpacked_dir(info, archive);
  if (!is_dir(dest)) {
    if (!is_file(archive)) throw bad_input(info.name + ": " + archive + ": no such archive");
    for (const auto& d : info.downloads)
      if (base_name(archive) == d.name) {
        const std::string got = sha256_file(archive);
        if (got != d.sha256)
          throw bad_input(info.name + ": " + archive + ": SHA-256 " + got +
                          " is not the official " + d.name + "'s " + d.sha256 +
                          " (a damaged or partial download?)");
      }
    const std::string part = dest + ".part-" + std::to_string(::getpid());
    std::error_code ec;
    fs::remove_all(part, ec);
    fs::create_directories(part, ec);
    if (ec)
      throw Error(info.name + ": cannot unpack " + archive + " into the cache " + part + ": " +
                  ec.message());
    std::fprintf(stderr, "%s: unpacking %s into %s (once)\n", info.name.c_str(), archive.c_str(),
                 dest.c_str());
    try {
      extract_tar(archive, part);
    } catch (...) {
      fs::remove_all(part, ec);
      throw;
    }
    fs::rename(part, dest, ec);
    if (ec) {
      std::error_code ignored;
      fs::remove_all(part, ignored);
      // Another run may have unpacked it at the same time.
      if (!is_dir(dest))
        throw Error(info.name + ": cannot unpack " + archive + " into " + dest + ": " +
                    ec.message());
    }
  }
  return folder_in_unpacked(info, dest, archive);
}

std::string not_found_message(const DatasetInfo& info, const std::string& data_dir,
                              const NotFoundCause& cause) {
  std::vector<std::string> places;
  const auto [dir, origin] = data_folder(data_dir);
  if (!dir.empty()) {
    std::vector<std::string> below;
    for (const auto& f : info.folders) below.push_back(f + "/");
    for (const auto& d : info.downloads)
      if (is_archive_name(d.name)) below.push_back(d.name);
    std::string p = origin_label(origin) + " " + dir;
    if (!is_dir(dir))
      p += " (no such folder)";
    else
      p += " (and its " + join_list(below, "and") + ")";
    places.push_back(p);
  }
  if (!info.debian_dir.empty())
    places.push_back("Debian's " + info.debian_dir + " (package " + info.debian_package + ")");
  places.push_back("the cache " + default_cache_dir() + "/" + info.cache_folder);

  std::string why;
  if (!cause.download_allowed)
    why = cause.offline_env ? "downloading is off (D2L_OFFLINE is set)"
                            : "downloading is off (--no-download)";
  else if (!cause.download_error.empty())
    why = "the download failed (" + cause.download_error + ")";

  std::vector<std::string> ways;
  if (!info.debian_package.empty())
    ways.push_back("install Debian's package (apt-get install " + info.debian_package + ")");
  if (!cause.download_allowed)
    ways.push_back(cause.offline_env ? "unset D2L_OFFLINE to let d2l download it"
                                     : "run without --no-download to let d2l download it");
  const std::string first = info.mirrors.front() + info.downloads.front().name;
  if (info.downloads.size() > 1)
    ways.push_back("download " + first + " and the other " +
                   std::to_string(info.downloads.size() - 1) +
                   " files into one folder and pass --data-dir naming it");
  else
    ways.push_back("download " + first +
                   " and pass --data-dir naming it (or the folder it unpacks to)");
  return info.name + ": data set not found in " + join_list(places, "or") +
         (why.empty() ? "" : ", and " + why) + "; to get it, " + join_list(ways, "or", true) + ".";
}

std::string locate_dataset(const DatasetInfo& info, const LocateOptions& opts) {
  if (const auto found = find_dataset(info, opts.data_dir))
    return found->dir.empty() ? unpack_dataset_archive(info, found->archive) : found->dir;
  NotFoundCause cause;
  // --no-download is named when given; D2L_OFFLINE otherwise.
  cause.offline_env = opts.download && offline_env();
  cause.download_allowed = opts.download && !cause.offline_env;
  if (cause.download_allowed) {
    std::string error = download_dataset(info, default_cache_dir() + "/" + info.name);
    const std::string target = default_cache_dir() + "/" + info.cache_folder;
    if (error.empty()) {
      if (inspect(info, target).missing.empty()) return target;
      error = "the downloaded files are not all in " + target;
    }
    cause.download_error = error;
  }
  throw bad_input(not_found_message(info, opts.data_dir, cause));
}

}  // namespace d2l::data
