#include "command.h"

#include <cstdio>
#include <exception>
#include <map>
#include <string>

#include "d2l/core/error.h"

namespace d2l::cli {

namespace {

// An error message as one line: a control character in it (a newline in a file name or a value a
// user typed) is written as \n, \r, \t or \xNN.
std::string one_line(const std::string& text) {
  std::string out;
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '\n')
      out += "\\n";
    else if (c == '\r')
      out += "\\r";
    else if (c == '\t')
      out += "\\t";
    else if (u < 0x20 || u == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", u);
      out += buf;
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

int run_main(const std::string& prog, const std::string& description, int argc, char** argv,
             const std::function<void(CLI::App&)>& extra) {
  CLI::App app{description, prog};
  app.require_subcommand(0, 1);
  app.fallthrough(false);
  app.get_formatter()->column_width(30);
  std::map<CLI::App*, Runner> runners;
  try {
    for (auto& c : registry()) {
      CLI::App* sub = app.add_subcommand(c.name, c.summary);
      runners[sub] = c.setup(*sub);
    }
    if (extra) extra(app);
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // One line, as every other bad input: the message and where to look.
    std::fprintf(stderr, "%s: %s (see --help)\n", prog.c_str(), one_line(e.what()).c_str());
    return 2;
  } catch (const d2l::Error& e) {
    std::fprintf(stderr, "%s: %s\n", prog.c_str(), one_line(e.what()).c_str());
    return e.exit_code();
  }
  for (auto& [sub, run] : runners) {
    if (!sub->parsed()) continue;
    try {
      return run ? run() : 0;
    } catch (const d2l::Error& e) {
      std::fprintf(stderr, "%s: %s\n", prog.c_str(), one_line(e.what()).c_str());
      return e.exit_code();
    } catch (const std::exception& e) {
      // LibTorch's errors carry a multi-line backtrace: the first line is the message.
      std::string what = e.what();
      what = what.substr(0, what.find('\n'));
      std::fprintf(stderr, "%s: %s\n", prog.c_str(), one_line(what).c_str());
      return 1;
    }
  }
  std::fputs(app.help().c_str(), stdout);
  return 0;
}

}  // namespace d2l::cli
