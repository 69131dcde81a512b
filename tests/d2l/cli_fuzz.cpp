// d2l_cli_fuzz: a seeded random driver for the command line of the torch-free `d2l` commands.
// It runs the real program as child processes with random argument vectors built from each
// command's real options (read from its --help, so a new option is fuzzed without a change
// here), values from a list of interesting values and random bytes, and requires of every run:
//   - no crash: no death by a signal the driver did not send;
//   - no hang: a run still alive after --interrupt-after seconds gets SIGINT (Ctrl-C; the
//     long-running `monitor` and `autostop run` end this way, with exit 0 or 130), and one still
//     alive --timeout seconds later is killed and reported;
//   - only documented exit codes (0, 1, 2, 130; `cost budget check` also 3 and 4);
//   - exit 2 prints exactly one line on stderr, `d2l: ...`; exit 1 prints at least one.
// Side effects are kept safe: a fake HOME and config folder under a fresh temp folder (also the
// working folder); `autostop check` and `autostop run` always get --dry-run (placed before any
// random argument, and the driver never writes `--dry-run=...` or `--`); stand-ins that only
// record their call come first on PATH for shutdown, poweroff, halt, reboot, systemctl and wall
// (any call is reported), and stand in for Jupyter (D2L_JUPYTER) and d2l-torch (D2L_TORCH_EXE);
// `show` always gets --no-download; random bytes never hold '/'; `train` and `bench`
// (LibTorch: `train`, `bench`, `summary`) are not run. No network is used.
//
//   d2l_cli_fuzz --d2l PATH [--seed N] [--runs N | --seconds S] [--interrupt-after S]
//                [--timeout S] [--verbose]
// Exit status: 0 no finding, 1 findings (each printed with the argument vector to reproduce
// it), 2 bad usage or setup.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

/// A command the driver may run, with what keeps it safe.
struct Target {
  std::vector<std::string> path;    ///< e.g. {"autostop", "check"}
  std::vector<std::string> forced;  ///< always given first, e.g. --dry-run
  std::vector<std::string> hidden;  ///< options not in --help (typed TEXT)
  std::set<int> codes{0, 1, 2, 130};
  bool fuzz = true;         ///< false: a group, only its --help is read (its subcommands checked)
  bool silent_one = false;  ///< exit 1 is a verdict printed on stdout (doctor: a probe FAILs)
};

/// One option or positional as --help describes it.
struct Option {
  std::vector<std::string> names;  ///< {"-i", "--interval"}; a positional: {"metrics"}
  std::string type;                ///< FLOAT, INT, UINT, TEXT, ...; "" for a flag
  bool positional = false;
  bool many = false;  ///< takes several values
};

struct Case {
  const Target* target = nullptr;
  std::vector<Option> options;
};

// `d2l` commands not run here (LibTorch: they run in d2l-torch), besides those whose summary
// says `(LibTorch)`.
const std::set<std::string> kNotRun = {"train", "bench", "summary"};

std::vector<Target> targets() {
  const std::vector<std::string> none;
  return {
      {{"monitor"}, none, {"--root", "--count"}},
      {{"doctor"}, none, {"--root"}, {0, 1, 2, 130}, true, true},
      {{"cost", "list"}, none, {}},
      {{"cost", "estimate"}, none, {}},
      {{"cost", "compare"}, none, {}},
      {{"cost", "budget", "set"}, none, {}},
      {{"cost", "budget", "check"}, none, {}, {0, 1, 2, 3, 4, 130}},
      {{"cost", "update"}, none, {}},
      {{"cost", "log"}, none, {}},
      {{"notebook", "password"}, none, {}},
      {{"notebook", "cert"}, none, {}},
      {{"notebook", "start"}, none, {}},
      {{"notebook", "status"}, none, {}},
      {{"notebook", "list"}, none, {}},
      {{"notebook", "stop"}, none, {}},
      {{"notebook", "tunnel"}, none, {}},
      {{"autostop", "check"}, {"--dry-run"}, {}},
      {{"autostop", "run"}, {"--dry-run"}, {}},
      {{"autostop", "status"}, none, {}},
      {{"cloud", "launch"}, none, {}},
      {{"cloud", "list"}, none, {}},
      {{"cloud", "stop"}, none, {}},
      {{"cloud", "start"}, none, {}},
      {{"cloud", "terminate"}, none, {}},
      {{"cloud", "stop-all"}, none, {}},
      {{"cloud", "ssh"}, none, {}},
      {{"cloud", "pull"}, none, {}},
      {{"cloud", "notebook", "create"}, none, {}},
      {{"cloud", "notebook", "start"}, none, {}},
      {{"cloud", "notebook", "stop"}, none, {}},
      {{"cloud", "notebook", "status"}, none, {}},
      {{"cloud", "notebook", "url"}, none, {}},
      {{"cloud", "notebook", "delete"}, none, {}},
      {{"plot"}, none, {}},
      {{"show"}, {"--no-download"}, {}},
      {{}, none, {}},  // d2l itself: --help, --version, junk
      {{"cost"}, none, {}, {}, false},
      {{"cost", "budget"}, none, {}, {}, false},
      {{"notebook"}, none, {}, {}, false},
      {{"autostop"}, none, {}, {}, false},
      {{"cloud"}, none, {}, {}, false},
      {{"cloud", "notebook"}, none, {}, {}, false},
  };
}

std::string join(const std::vector<std::string>& v, const std::string& sep = " ") {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : sep) + x;
  return s;
}

// A shell-quoted command line, to reproduce a finding by hand ($'...' for bytes outside ASCII).
std::string quoted(const std::vector<std::string>& argv) {
  std::string s;
  for (const auto& a : argv) {
    bool plain = true;
    for (char c : a)
      plain &= static_cast<unsigned char>(c) >= 0x20 && static_cast<unsigned char>(c) < 0x7f;
    std::string q = plain ? "'" : "$'";
    for (char c : a) {
      const auto u = static_cast<unsigned char>(c);
      if (plain) {
        q += c == '\'' ? std::string("'\\''") : std::string(1, c);
      } else if (u < 0x20 || u >= 0x7f || c == '\'' || c == '\\') {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\x%02x", u);
        q += buf;
      } else {
        q += c;
      }
    }
    s += (s.empty() ? "" : " ") + q + "'";
  }
  return s;
}

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

struct Outcome {
  int code = -1;             ///< exit status, or -1 when killed by a signal
  int signal = 0;            ///< the signal that ended it
  bool interrupted = false;  ///< the driver sent SIGINT
  bool hung = false;         ///< killed by the driver after the timeout
  std::string err;
  double seconds = 0;
};

/// Runs argv with env, stdin from `input`, stdout to /dev/null (its size is not a property),
/// stderr captured; SIGINT after `interrupt_after` s, SIGKILL `timeout` s later.
Outcome run(const std::vector<std::string>& argv, const std::vector<std::string>& env,
            const std::string& cwd, const std::string& input_file, const std::string& err_file,
            double interrupt_after, double timeout) {
  Outcome o;
  const auto t0 = Clock::now();
  const pid_t pid = ::fork();
  if (pid < 0) {
    std::perror("d2l_cli_fuzz: fork");
    std::exit(2);
  }
  if (pid == 0) {
    ::setpgid(0, 0);
    if (::chdir(cwd.c_str()) != 0) ::_exit(125);
    const int in = ::open(input_file.c_str(), O_RDONLY);
    const int out = ::open("/dev/null", O_WRONLY);
    const int err = ::open(err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (in < 0 || out < 0 || err < 0) ::_exit(125);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(err, 2);
    std::vector<char*> a, e;
    for (const auto& s : argv) a.push_back(const_cast<char*>(s.c_str()));
    a.push_back(nullptr);
    for (const auto& s : env) e.push_back(const_cast<char*>(s.c_str()));
    e.push_back(nullptr);
    ::execve(a[0], a.data(), e.data());
    ::_exit(126);
  }
  ::setpgid(pid, pid);
  int status = 0;
  for (;;) {
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    const double dt = std::chrono::duration<double>(Clock::now() - t0).count();
    if (!o.interrupted && dt > interrupt_after) {
      o.interrupted = true;
      ::kill(pid, SIGINT);  // the command itself only: as Ctrl-C would reach it
      // autostop run stops on SIGTERM or SIGINT alike; monitor on both too.
    }
    if (dt > interrupt_after + timeout) {
      o.hung = true;
      ::kill(-pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ::kill(-pid, SIGKILL);  // anything it left behind in its group
  o.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  if (WIFEXITED(status)) o.code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) o.signal = WTERMSIG(status);
  o.err = read_all(err_file);
  return o;
}

// Parses the Options and Positionals of a --help text.
std::vector<Option> parse_help(const std::string& help, std::vector<std::string>* subcommands) {
  std::vector<Option> out;
  std::istringstream in(help);
  std::string line, section;
  while (std::getline(in, line)) {
    if (!line.empty() && line[0] != ' ') {
      section = line;
      continue;
    }
    if (line.size() < 3 || line[2] == ' ') continue;  // blank or a description's next line
    std::string left = line.substr(2);
    const auto gap = left.find("  ");
    if (gap != std::string::npos) left = left.substr(0, gap);
    std::istringstream words(left);
    std::vector<std::string> w;
    for (std::string x; words >> x;) w.push_back(x);
    if (w.empty()) continue;
    if (section.rfind("Subcommands", 0) == 0) {
      // The LibTorch commands (`(LibTorch)` in their summary) run in d2l-torch: not fuzzed here.
      if (subcommands && line.find("(LibTorch)") == std::string::npos) subcommands->push_back(w[0]);
      continue;
    }
    if (section.rfind("Options", 0) != 0 && section.rfind("Positionals", 0) != 0) continue;
    Option o;
    o.positional = section.rfind("Positionals", 0) == 0;
    std::stringstream names(w[0]);
    for (std::string n; std::getline(names, n, ',');) o.names.push_back(n);
    if (w.size() > 1 && w[1] != "REQUIRED") {
      o.type = w[1].substr(0, w[1].find_first_of(":="));
      for (const auto& x : w) o.many |= x == "...";
    }
    if (o.names.front() == "-h") continue;  // --help is added by the driver, rarely
    out.push_back(o);
  }
  return out;
}

class Fuzzer {
 public:
  Fuzzer(std::string d2l, std::uint64_t seed, double interrupt_after, double timeout, bool verbose)
      : d2l_(std::move(d2l)),
        rng_(seed),
        timeout_(timeout),
        interrupt_after_(interrupt_after),
        verbose_(verbose) {}

  int setup() {
    char tmpl[] = "/tmp/d2l-cli-fuzz-XXXXXX";
    if (!::mkdtemp(tmpl)) {
      std::perror("d2l_cli_fuzz: mkdtemp");
      return 2;
    }
    root_ = tmpl;
    home_ = root_ + "/home";
    bin_ = root_ + "/standins";
    fs::create_directories(home_ + "/.config/d2l");
    fs::create_directories(bin_);
    record_ = root_ + "/standin-calls.log";
    for (const char* name : {"shutdown", "poweroff", "halt", "reboot", "systemctl", "wall"})
      write_script(bin_ + "/" + name,
                   "echo \"" + std::string(name) + " $*\" >> '" + record_ + "'\nexit 0\n");
    write_script(bin_ + "/jupyter-standin",
                 "echo \"jupyter $*\" >> '" + root_ + "/jupyter-calls.log'\nexit 1\n");
    // Files for the options that read one.
    std::ofstream(root_ + "/metrics.json")
        << R"({"model":"lenet","epochs":2,"points":[{"x":1,"loss":0.5,"train_acc":0.8},)"
        << R"({"x":2,"loss":0.4,"train_acc":0.85,"test_acc":0.8}]})";
    std::ofstream(root_ + "/bad.json") << "{\"points\": [";
    std::ofstream(root_ + "/empty.json");
    std::ofstream(root_ + "/nan.json") << R"({"points":[{"x":NaN,"loss":1e999}]})";
    // `d2l cloud` finds no credentials here, and no AWS endpoint or metadata service either.
    env_ = {"HOME=" + home_,
            "PATH=" + bin_ + ":/usr/local/bin:/usr/bin:/bin",
            "D2L_CONFIG_DIR=" + home_ + "/.config/d2l",
            "XDG_CONFIG_HOME=" + home_ + "/.config",
            "XDG_DATA_HOME=" + home_ + "/.local/share",
            "XDG_CACHE_HOME=" + home_ + "/.cache",
            "D2L_JUPYTER=" + bin_ + "/jupyter-standin",
            "D2L_TORCH_EXE=/bin/false",
            "LANG=C.UTF-8",
            "TERM=dumb",
            "http_proxy=http://127.0.0.1:9",
            "https_proxy=http://127.0.0.1:9",
            "AWS_ENDPOINT_URL=http://127.0.0.1:9",
            "AWS_EC2_METADATA_DISABLED=true"};
    // Each target's options, from its --help.
    for (const Target& t : targets_) {
      Case c;
      c.target = &t;
      std::vector<std::string> argv = {d2l_};
      argv.insert(argv.end(), t.path.begin(), t.path.end());
      argv.push_back("--help");
      const Outcome o = run_capture_help(argv);
      if (o.code != 0) {
        std::fprintf(stderr, "d2l_cli_fuzz: `%s` failed (%d)\n", quoted(argv).c_str(), o.code);
        return 2;
      }
      // A table entry for a command that is gone: CLI11 answers with its parent's help.
      std::vector<std::string> words = {"d2l"};
      words.insert(words.end(), t.path.begin(), t.path.end());
      const std::string own = "Usage: " + join(words) + " ";
      if (help_text_.find(own) == std::string::npos) {
        std::fprintf(stderr,
                     "d2l_cli_fuzz: `d2l %s` is in the driver's table but is not a command "
                     "(its --help is another's): remove it from targets()\n",
                     join(t.path).c_str());
        return 2;
      }
      std::vector<std::string> subs;
      c.options = parse_help(help_text_, &subs);
      for (const auto& h : t.hidden) c.options.push_back({{h}, "TEXT", false, false});
      // Every subcommand --help lists must be in the table (or knowingly not run).
      for (const auto& s : subs) {
        std::vector<std::string> p = t.path;
        p.push_back(s);
        bool known = kNotRun.count(s) > 0 && t.path.empty();
        for (const Target& u : targets_) known |= u.path == p;
        for (const Target& u : targets_)
          known |= u.path.size() > p.size() && std::equal(p.begin(), p.end(), u.path.begin());
        if (!known) {
          std::fprintf(stderr,
                       "d2l_cli_fuzz: `d2l %s` is not in the driver's table: add it to targets() "
                       "with what keeps it safe\n",
                       join(p).c_str());
          return 2;
        }
      }
      if (t.fuzz) cases_.push_back(c);
    }
    return 0;
  }

  void teardown() {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }

  /// One random run; returns false on a finding.
  bool once() {
    const Case& c = cases_[pick(cases_.size())];
    std::vector<std::string> argv = {d2l_};
    argv.insert(argv.end(), c.target->path.begin(), c.target->path.end());
    argv.insert(argv.end(), c.target->forced.begin(), c.target->forced.end());
    const int n = static_cast<int>(pick(7));
    for (int i = 0; i < n; ++i) add_random_argument(c, argv);
    // stdin: nothing, or one line (notebook password reads it)
    const std::string input = root_ + "/stdin.txt";
    {
      std::ofstream in(input, std::ios::binary);
      if (pick(2)) in << value_for(Option{{"--password"}, "TEXT"}) << "\n";
    }
    const Outcome o =
        run(argv, env_, home_, input, root_ + "/stderr.txt", interrupt_after_, timeout_);
    ++runs_;
    if (o.code >= 0) ++by_code_[o.code];
    if (o.interrupted) ++interrupted_;
    std::string finding;
    if (o.hung) {
      finding = "hang: still running " + std::to_string(timeout_) + " s after SIGINT";
    } else if (o.signal != 0 && !(o.signal == SIGINT && o.interrupted)) {
      finding = std::string("crash: killed by signal ") + std::to_string(o.signal) + " (" +
                ::strsignal(o.signal) + ")";
    } else if (o.code >= 0 && c.target->codes.count(o.code) == 0) {
      finding = "undocumented exit code " + std::to_string(o.code);
    } else if (o.code == 2 && (count_lines(o.err) != 1 || o.err.rfind("d2l: ", 0) != 0)) {
      finding = "exit 2 without exactly one `d2l: ` line on stderr";
    } else if (o.code == 1 && o.err.empty() && !c.target->silent_one) {
      finding = "exit 1 with nothing on stderr";
    }
    const std::string calls = read_all(record_);
    if (!calls.empty()) {
      finding += (finding.empty() ? "" : "; ") + std::string("a stand-in was called: ") + calls;
      std::remove(record_.c_str());
    }
    if (verbose_)
      std::printf("[%zu] %s -> %d%s (%.2fs)\n", runs_, quoted(argv).c_str(), o.code,
                  o.interrupted ? " after SIGINT" : "", o.seconds);
    if (finding.empty()) return true;
    const std::string key = join(c.target->path) + ": " + finding.substr(0, finding.find(':'));
    if (seen_.insert(key + std::to_string(o.code)).second || verbose_) {
      std::printf("FINDING %s\n  run: %s\n  stderr: %s\n", finding.c_str(),
                  quoted(std::vector<std::string>(argv.begin() + 1, argv.end())).c_str(),
                  o.err.substr(0, 600).c_str());
    }
    ++findings_;
    return false;
  }

  void summary(double seconds, std::uint64_t seed) const {
    std::printf(
        "d2l_cli_fuzz: seed %llu, %zu runs in %.0f s, %zu interrupted by SIGINT; exit codes:",
        static_cast<unsigned long long>(seed), runs_, seconds, interrupted_);
    for (const auto& [code, n] : by_code_) std::printf(" %d:%zu", code, n);
    std::printf("; findings: %zu\n", findings_);
  }

  std::size_t findings() const { return findings_; }

 private:
  static void write_script(const std::string& path, const std::string& body) {
    std::ofstream(path) << "#!/bin/sh\n" << body;
    ::chmod(path.c_str(), 0755);
  }

  static int count_lines(const std::string& s) {
    int n = 0;
    for (char ch : s) n += ch == '\n';
    if (!s.empty() && s.back() != '\n') ++n;
    return n;
  }

  Outcome run_capture_help(const std::vector<std::string>& argv) {
    const std::string out = root_ + "/help.txt";
    const pid_t pid = ::fork();
    if (pid == 0) {
      const int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      ::dup2(fd, 1);
      std::vector<char*> a;
      for (const auto& s : argv) a.push_back(const_cast<char*>(s.c_str()));
      a.push_back(nullptr);
      std::vector<char*> e;
      for (const auto& s : env_) e.push_back(const_cast<char*>(s.c_str()));
      e.push_back(nullptr);
      ::execve(a[0], a.data(), e.data());
      ::_exit(126);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    Outcome o;
    o.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    help_text_ = read_all(out);
    return o;
  }

  std::size_t pick(std::size_t n) {
    return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_);
  }

  template <class T>
  const T& one_of(const std::vector<T>& v) {
    return v[pick(v.size())];
  }

  std::string random_bytes() {
    std::string s;
    const std::size_t n = 1 + pick(24);
    for (std::size_t i = 0; i < n; ++i) {
      char ch = static_cast<char>(1 + pick(255));
      if (ch == '/') ch = '_';
      s += ch;
    }
    return s;
  }

  std::string value_for(const Option& o) {
    static const std::vector<std::string> numbers = {
        "-1",         "0",      "1",     "2",      "5",           "0.5",
        "1.5",        "-0",     "1e300", "-1e300", "99999999999", "9223372036854775808",
        "4294967296", "65535",  "65536", "nan",    "-nan",        "inf",
        "-inf",       "1e-300", "0x10",  "08",     "1e3",         "1,2",
        " 1",         "1 ",     "+3",    ""};
    static const std::vector<std::string> durations = {
        "8h",  "90m", "2d",   "1h30m",  "1.5h",   "0",    "0s", "-1h",  "1e300d", "1e308d",  "nan",
        "inf", "1s",  "0.5s", "86400s", "86401s", "100y", "h",  "1h30", "36600d", "1e-300s", ""};
    static const std::vector<std::string> hosts = {
        "127.0.0.1",        "::1",          "localhost", "0.0.0.0",          "::",
        "127.evil.example", "192.168.1.10", "127.1",     "::ffff:127.0.0.1", "",
        "example.org",      "256.0.0.1",    "[::1]",     "127.0.0.1:80"};
    static const std::vector<std::string> texts = {"",
                                                   "x",
                                                   "-",
                                                   "--json",
                                                   "p3.2xlarge",
                                                   "g4dn.xlarge",
                                                   "t3.micro",
                                                   "no-such-type",
                                                   "p3.2xlarge:8h",
                                                   "g4dn.xlarge:1e300d",
                                                   ":8h",
                                                   "p3.2xlarge:",
                                                   "p3.2xlarge:nan",
                                                   "us-east-1",
                                                   "50,80,90",
                                                   "0,1000",
                                                   "1001",
                                                   "a,b",
                                                   ",",
                                                   "3.5x2.5",
                                                   "0x0",
                                                   "1e9x1e9",
                                                   "nanxnan",
                                                   "infx1",
                                                   "1x",
                                                   "0,1",
                                                   "nan,1",
                                                   "1,1",
                                                   "2,1",
                                                   "-inf,inf",
                                                   "loss,train_acc",
                                                   "test_acc",
                                                   "nope",
                                                   "fashion-mnist",
                                                   "mnist",
                                                   "cifar10",
                                                   "train",
                                                   "test",
                                                   "jupyter,ssh",
                                                   "cpu,,gpu",
                                                   "gpu",
                                                   "cpu",
                                                   "shutdown",
                                                   "true",
                                                   "echo hi",
                                                   "%s%n%x",
                                                   std::string(5000, 'A'),
                                                   "\xc3\xa9",
                                                   "\xff\xfe",
                                                   "a\nb",
                                                   "a b",
                                                   "'",
                                                   "\"",
                                                   "$HOME",
                                                   "*",
                                                   "~"};
    std::vector<std::string> paths = {root_ + "/metrics.json",
                                      root_ + "/bad.json",
                                      root_ + "/empty.json",
                                      root_ + "/nan.json",
                                      root_ + "/nonexistent/x",
                                      root_ + "/out.png",
                                      "out.svg",
                                      "out.pdf",
                                      "out.txt",
                                      "out.png",
                                      home_,
                                      "."};
    const std::string name = o.names.back();
    if (pick(8) == 0) return random_bytes();
    if (o.type == "FLOAT" || o.type == "INT" || o.type == "UINT") return one_of(numbers);
    if (name == "--ip" || name == "--host" || name == "host") return one_of(hosts);
    if (name == "--idle" || name == "--grace" || name == "--interval" || name == "duration")
      return pick(4) ? one_of(durations) : one_of(numbers);
    if (name == "hours" || name == "--count") return one_of(numbers);
    if (name == "metrics" || name == "--compare" || name == "--save" || name == "--output" ||
        name == "--csv" || name == "--state" || name == "--log" || name == "--dir" ||
        name == "--root" || name == "--data-dir" || name == "--checkpoint-dir" ||
        name == "--runtime-dir" || name == "--catalog" || name == "--key")
      return pick(4) ? one_of(paths) : one_of(texts);
    return pick(6) ? one_of(texts) : one_of(numbers);
  }

  void add_random_argument(const Case& c, std::vector<std::string>& argv) {
    const std::size_t kind = pick(20);
    if (kind == 0) {  // junk
      static const std::vector<std::string> junk = {
          "--no-such-flag", "-x", "---",    "-",         "--=",
          "--json=maybe",   "-h", "--help", "--version", "extra"};
      argv.push_back(pick(2) ? junk[pick(junk.size())] : random_bytes());
      if (argv.back() == "--" || argv.back().rfind("--dry-run", 0) == 0) argv.back() = "x";
      return;
    }
    if (c.options.empty()) {
      argv.push_back(random_bytes());
      return;
    }
    const Option& o = c.options[pick(c.options.size())];
    const std::string v = value_for(o);
    if (o.positional) {
      argv.push_back(v);
    } else if (o.type.empty()) {
      argv.push_back(one_of(o.names));  // a flag: never `--flag=value`
    } else if (pick(4) == 0 && o.names.back().rfind("--", 0) == 0) {
      argv.push_back(o.names.back() + "=" + v);
    } else {
      argv.push_back(one_of(o.names));
      argv.push_back(v);
      if (o.many && pick(3) == 0) argv.push_back(value_for(o));
    }
    // Never a bare "--" (it would turn what follows into positionals) and never a value that
    // could switch --dry-run off.
    for (auto& a : argv)
      if (a == "--") a = "x";
  }

  std::string d2l_;
  std::mt19937_64 rng_;
  double timeout_;
  double interrupt_after_;
  bool verbose_;
  std::vector<Target> targets_ = targets();
  std::vector<Case> cases_;
  std::vector<std::string> env_;
  std::string root_, home_, bin_, record_, help_text_;
  std::size_t runs_ = 0, findings_ = 0, interrupted_ = 0;
  std::map<int, std::size_t> by_code_;
  std::set<std::string> seen_;
};

int usage() {
  std::fprintf(stderr,
               "usage: d2l_cli_fuzz --d2l PATH [--seed N] [--runs N | --seconds S] "
               "[--interrupt-after S] [--timeout S] [--verbose]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string d2l;
  std::uint64_t seed = 1;
  long runs = -1;
  double seconds = 0, timeout = 10, interrupt_after = 2;
  bool verbose = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) std::exit(usage());
      return argv[++i];
    };
    try {
      if (a == "--d2l")
        d2l = next();
      else if (a == "--seed")
        seed = std::stoull(next());
      else if (a == "--runs")
        runs = std::stol(next());
      else if (a == "--seconds")
        seconds = std::stod(next());
      else if (a == "--timeout")
        timeout = std::stod(next());
      else if (a == "--interrupt-after")
        interrupt_after = std::stod(next());
      else if (a == "--verbose")
        verbose = true;
      else
        return usage();
    } catch (const std::exception&) {
      return usage();
    }
  }
  if (!d2l.empty()) d2l = fs::absolute(d2l).string();  // the runs start in the fake HOME
  if (d2l.empty() || ::access(d2l.c_str(), X_OK) != 0 || (runs < 0 && !(seconds > 0)) ||
      !(timeout > 0) || !(interrupt_after > 0))
    return usage();
  ::signal(SIGPIPE, SIG_IGN);
  Fuzzer f(d2l, seed, interrupt_after, timeout, verbose);
  if (const int rc = f.setup(); rc != 0) {
    f.teardown();
    return rc;
  }
  const auto t0 = Clock::now();
  for (long n = 0;; ++n) {
    const double dt = std::chrono::duration<double>(Clock::now() - t0).count();
    if (runs >= 0 ? n >= runs : dt >= seconds) break;
    f.once();
  }
  f.summary(std::chrono::duration<double>(Clock::now() - t0).count(), seed);
  f.teardown();
  return f.findings() == 0 ? 0 : 1;
}
