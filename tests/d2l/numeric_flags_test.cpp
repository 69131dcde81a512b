// Every numeric flag of the torch-free `d2l` commands, given a negative, zero, huge, nan and inf
// value: either exit 0 with the flag's documented meaning, or one line on stderr naming the flag
// and exit 2. The real program runs with a fake HOME and config folder, in options that end at
// once (monitor --once, autostop status, no server started). A new flag is covered by adding a
// row to kRows. (`d2l train`'s flags have their rows in tests/d2l_torch.)
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "support/fixtures.h"

namespace {

/// What a value must give.
enum class Outcome {
  ok,       ///< exit 0: the value has a documented meaning (see FlagRow::shows)
  refused,  ///< exit 2 with exactly one line on stderr that names the flag
};
constexpr Outcome ok = Outcome::ok;
constexpr Outcome no = Outcome::refused;

struct FlagRow {
  const char* command;  ///< before the flag: command, subcommand, what makes it end at once
                        ///< (`{dir}` is the test's temp folder)
  const char* flag;     ///< the option (`--port`), or a positional's name (`hours`: value last)
  Outcome negative, zero, huge, nan, inf;
  const char* shows;  ///< with an accepted value: text stdout must hold (its meaning), or ""
};

// clang-format off
const FlagRow kRows[] = {
    // command                                        flag           -1  0   huge nan inf  accepted: stdout shows
    {"monitor --once --no-nvml --json",               "--interval",   no, ok, no,  no, no, "\"schema\""},
    {"monitor --once --no-nvml --json",               "--top",        no, ok, no,  no, no, "\"top_memory\": []"},
    {"monitor --once --no-nvml --json",               "--window",     no, ok, no,  no, no, "\"schema\""},
    {"monitor --no-nvml --json --interval 0",         "--count",      no, no, no,  no, no, ""},
    {"doctor --no-torch --json",                      "--timeout",    no, no, no,  no, no, ""},
    {"cost list",                                     "--max-price",  no, ok, no,  no, no, "0 instance types"},
    {"cost budget set",                               "--monthly",    no, no, no,  no, no, ""},
    {"cost log p3.2xlarge",                           "hours",        no, no, no,  no, no, ""},
    {"cost estimate p3.2xlarge",                      "duration",     no, no, no,  no, no, ""},
    {"notebook cert --dir {dir}/jupyter",             "--days",       no, no, no,  no, no, ""},
    {"notebook start --dir {dir}/jupyter",            "--port",       no, no, no,  no, no, ""},
    {"notebook start --dir {dir}/jupyter",            "--wait",       no, no, no,  no, no, ""},
    {"notebook stop --dir {dir}/jupyter",             "--pid",        no, no, no,  no, no, ""},
    {"notebook stop --dir {dir}/jupyter",             "--wait",       no, no, no,  no, no, ""},
    {"notebook tunnel example.org",                   "--port",       no, no, no,  no, no, ""},
    {"notebook tunnel example.org",                   "--local-port", no, no, no,  no, no, ""},
    {"autostop status --signals cpu",                 "--max-load",   no, ok, no,  no, no, "busy above 0.00"},
    {"autostop status --signals gpu",                 "--gpu-busy",   no, no, no,  no, no, ""},
    {"autostop status --signals cpu",                 "--idle",       no, no, no,  no, no, ""},
    {"autostop status --signals cpu",                 "--grace",      no, no, no,  no, no, ""},
    {"autostop run --dry-run --signals cpu",          "--interval",   no, no, no,  no, no, ""},
    {"plot {dir}/run/metrics.json -o {dir}/p.svg",    "--scale",      no, no, no,  no, no, ""},
    {"show fashion-mnist --no-download -o {dir}/s.png", "--rows",     no, no, no,  no, no, ""},
    {"show fashion-mnist --no-download -o {dir}/s.png", "--cols",     no, no, no,  no, no, ""},
    {"show fashion-mnist --no-download -o {dir}/s.png", "--start",    no, ok, no,  no, no, "wrote"},
    {"show fashion-mnist --no-download -o {dir}/s.png", "--scale",    no, no, no,  no, no, ""},
};
// clang-format on

struct Value {
  const char* text;
  Outcome FlagRow::*expect;
};
// "huge" twice: as a float that overflows most uses, and as an integer past 32 bits.
const Value kValues[] = {{"-1", &FlagRow::negative}, {"0", &FlagRow::zero},
                         {"1e300", &FlagRow::huge},  {"99999999999", &FlagRow::huge},
                         {"nan", &FlagRow::nan},     {"inf", &FlagRow::inf}};

struct Result {
  int code = -1;
  std::string out, err;
};

std::string replace_all(std::string s, const std::string& what, const std::string& with) {
  for (auto p = s.find(what); p != std::string::npos; p = s.find(what, p + with.size()))
    s.replace(p, what.size(), with);
  return s;
}

class NumericFlags : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string home = dir_ / "home";
    std::filesystem::create_directories(home);
    std::filesystem::create_directories(dir_ / "run");
    std::ofstream(dir_ / "run/metrics.json")
        << R"({"model":"lenet","epochs":1,"points":[{"x":1,"loss":0.5,"train_acc":0.8}]})";
  }

  // Runs `d2l ARGS` in the temp folder with a fake HOME, config and Jupyter, no d2l-torch.
  Result run(const std::string& args) const {
    const std::string home = dir_ / "home";
    const std::string out = dir_ / "out.txt", err = dir_ / "err.txt";
    const std::string cmd = "cd '" + home + "' && env -u JUPYTER_RUNTIME_DIR HOME='" + home +
                            "' XDG_CONFIG_HOME='" + home + "/.config' D2L_CONFIG_DIR='" + home +
                            "/.config/d2l' D2L_JUPYTER=/bin/false D2L_TORCH_EXE=/bin/false " +
                            "timeout 60 " + d2l::test::bin("d2l") + " " + args +
                            " < /dev/null > '" + out + "' 2> '" + err + "'";
    const int rc = std::system(cmd.c_str());
    Result r;
    r.code = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
    r.out = d2l::read_file(out);
    r.err = d2l::read_file(err);
    return r;
  }

  d2l::test::TempDir dir_;
};

}  // namespace

TEST_F(NumericFlags, EveryValueHasItsMeaningOrOneLineAndExitTwo) {
  for (const FlagRow& row : kRows) {
    const std::string command = replace_all(row.command, "{dir}", dir_.str());
    const bool positional = std::string(row.flag).rfind("-", 0) != 0;
    for (const Value& v : kValues) {
      const std::string args =
          command + " " + (positional ? std::string() : std::string(row.flag) + " ") + v.text;
      SCOPED_TRACE("d2l " + args);
      const Result r = run(args);
      if (row.*v.expect == Outcome::ok) {
        EXPECT_EQ(r.code, 0) << r.err;
        EXPECT_NE(r.out.find(row.shows), std::string::npos) << r.out;
      } else {
        EXPECT_EQ(r.code, 2) << r.out << r.err;
        EXPECT_EQ(d2l::test::count_lines(r.err), 1) << r.err;
        EXPECT_NE(r.err.find(row.flag), std::string::npos) << r.err;
      }
    }
  }
}

// A flag whose "not given" is a state of its own: leaving it out is not the same as any value.
TEST_F(NumericFlags, NotGivenIsNotAValue) {
  // --max-price: not given lists every type; 0 lists none.
  const Result all = run("cost list");
  ASSERT_EQ(all.code, 0) << all.err;
  EXPECT_EQ(all.out.find("\n0 instance types"), std::string::npos) << all.out;
  // --local-port: not given is the server's port.
  const Result t = run("notebook tunnel example.org --port 9000");
  ASSERT_EQ(t.code, 0) << t.err;
  EXPECT_NE(t.out.find("9000:127.0.0.1:9000"), std::string::npos) << t.out;
  // --count: not given runs until interrupted (not here); a count ends after that many.
  const Result m = run("monitor --no-nvml --json --interval 0 --count 2");
  ASSERT_EQ(m.code, 0) << m.err;
  EXPECT_EQ(d2l::test::count_lines(m.out), 2) << m.out;
}

// Found by d2l_cli_fuzz: a value with a newline (or another control character) echoed in the
// error message made it two lines.
TEST_F(NumericFlags, AControlCharacterInAValueStaysOnOneLine) {
  for (const std::string args :
       {"cost budget set --monthly 1 --alerts \"$(printf 'a\\nb')\"",
        "autostop status --signals cpu --instance-type \"$(printf 'a\\nb\\001')\"",
        "cost list --catalog \"$(printf 'no\\nsuch.csv')\"",
        "monitor --once --top \"$(printf '1\\n')x\""}) {
    SCOPED_TRACE(args);
    const Result r = run(args);
    EXPECT_EQ(r.code, 2) << r.err;
    EXPECT_EQ(d2l::test::count_lines(r.err), 1) << r.err;
    EXPECT_EQ(r.err.rfind("d2l: ", 0), 0u) << r.err;
  }
}

// Options whose "not given" means a default (a folder, a file, a name): an empty value is not a
// way to say "not given", it gets one line naming the option and exit 2. One row per option.
TEST_F(NumericFlags, AnEmptyValueIsNotLeavingTheOptionOut) {
  const std::pair<const char*, const char*> rows[] = {
      {"monitor --once --no-nvml", "--csv"},
      {"monitor --once --no-nvml", "--root"},
      {"doctor --no-torch", "--save"},
      {"doctor --no-torch", "--compare"},
      {"doctor --no-torch", "--data-dir"},
      {"doctor --no-torch", "--checkpoint-dir"},
      {"doctor --no-torch", "--root"},
      {"cost list", "--catalog"},
      {"cost list", "--region"},
      {"notebook status", "--dir"},
      {"notebook start", "--root"},
      {"notebook tunnel example.org", "--user"},
      {"notebook tunnel example.org", "--key"},
      {"autostop status --signals cpu", "--signals"},
      {"autostop status --signals cpu", "--dir"},
      {"autostop status --signals cpu", "--runtime-dir"},
      {"autostop status --signals cpu", "--state"},
      {"autostop status --signals cpu", "--log"},
      {"autostop status --signals cpu", "--instance-type"},
      {"plot {dir}/run/metrics.json -o {dir}/p.svg", "--figsize"},
      {"plot {dir}/run/metrics.json -o {dir}/p.svg", "--ylim"},
      {"plot {dir}/run/metrics.json -o {dir}/p.svg", "--metrics"},
      {"show fashion-mnist --no-download", "--output"},
      {"show fashion-mnist --no-download", "--data-dir"},
  };
  for (const auto& [command, flag] : rows) {
    const std::string args = replace_all(command, "{dir}", dir_.str()) + " " + flag + " ''";
    SCOPED_TRACE("d2l " + args);
    const Result r = run(args);
    EXPECT_EQ(r.code, 2) << r.out << r.err;
    EXPECT_EQ(d2l::test::count_lines(r.err), 1) << r.err;
    EXPECT_NE(r.err.find(flag), std::string::npos) << r.err;
  }
}
