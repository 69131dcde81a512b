// Addresses: which hosts are loopback (the rule that lets a server start without a password
// and TLS), and the SSH tunnel commands to reach a loopback server.
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>
#include <string>
#include <vector>

#include "d2l/ops/jupyter.h"

namespace d2l::ops {
namespace {

bool loopback_in4(const in_addr& a) { return (ntohl(a.s_addr) >> 24) == 127; }

bool loopback_in6(const in6_addr& a) {
  if (IN6_IS_ADDR_LOOPBACK(&a)) return true;
  if (IN6_IS_ADDR_V4MAPPED(&a)) {
    in_addr v4{};
    std::memcpy(&v4.s_addr, a.s6_addr + 12, 4);
    return loopback_in4(v4);
  }
  return false;
}

}  // namespace

bool is_loopback_address(const std::string& address) {
  in_addr v4{};
  if (::inet_pton(AF_INET, address.c_str(), &v4) == 1) return loopback_in4(v4);
  in6_addr v6{};
  if (::inet_pton(AF_INET6, address.c_str(), &v6) == 1) return loopback_in6(v6);
  return false;
}

std::vector<std::string> resolve_host(const std::string& host) {
  std::vector<std::string> out;
  if (host.empty()) return out;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (::getaddrinfo(host.c_str(), nullptr, &hints, &res) != 0) return out;
  for (const addrinfo* a = res; a; a = a->ai_next) {
    char text[INET6_ADDRSTRLEN] = {};
    const void* where = nullptr;
    if (a->ai_family == AF_INET)
      where = &reinterpret_cast<const sockaddr_in*>(a->ai_addr)->sin_addr;
    else if (a->ai_family == AF_INET6)
      where = &reinterpret_cast<const sockaddr_in6*>(a->ai_addr)->sin6_addr;
    if (where && ::inet_ntop(a->ai_family, where, text, sizeof text))
      out.emplace_back(text);
    else
      out.emplace_back("?");  // an address family we cannot judge: never loopback
  }
  ::freeaddrinfo(res);
  return out;
}

bool is_loopback_host(const std::string& host, HostResolver resolve) {
  if (host.empty()) return false;
  in_addr v4{};
  in6_addr v6{};
  if (::inet_pton(AF_INET, host.c_str(), &v4) == 1 || ::inet_pton(AF_INET6, host.c_str(), &v6) == 1)
    return is_loopback_address(host);
  const std::vector<std::string> addresses = resolve ? resolve(host) : std::vector<std::string>{};
  if (addresses.empty()) return false;
  for (const auto& a : addresses)
    if (!is_loopback_address(a)) return false;
  return true;
}

std::string tunnel_command(const std::string& host, const std::string& user, const std::string& key,
                           int local_port, int remote_port) {
  std::string cmd =
      "ssh -N -L " + std::to_string(local_port) + ":127.0.0.1:" + std::to_string(remote_port);
  if (!key.empty()) cmd += " -i '" + key + "'";
  cmd += " " + (user.empty() ? "" : user + "@") + host;
  return cmd;
}

std::string tunnel_command_powershell(const std::string& host, const std::string& user,
                                      const std::string& key, int local_port, int remote_port) {
  std::string cmd =
      "ssh.exe -N -L " + std::to_string(local_port) + ":127.0.0.1:" + std::to_string(remote_port);
  if (!key.empty()) cmd += " -i \"" + key + "\"";
  cmd += " " + (user.empty() ? "" : user + "@") + host;
  return cmd;
}

}  // namespace d2l::ops
