#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "d2l/core/timer.h"

namespace d2l {

double seconds_since_process_start() {
  std::ifstream stat("/proc/self/stat");
  std::string line;
  if (!std::getline(stat, line)) return 0;
  // Field 22 (starttime, in clock ticks since boot) follows the ")" that ends field 2.
  const auto close = line.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream rest(line.substr(close + 2));
  std::string field;
  unsigned long long start = 0;
  for (int i = 3; i <= 22 && rest >> field; ++i)
    if (i == 22) start = std::stoull(field);
  double uptime = 0;
  std::ifstream up("/proc/uptime");
  if (!(up >> uptime)) return 0;
  const long hz = ::sysconf(_SC_CLK_TCK);
  return uptime - static_cast<double>(start) / static_cast<double>(hz > 0 ? hz : 100);
}

}  // namespace d2l
