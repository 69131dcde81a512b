// Jupyter's password hashes (argon2id, as jupyter_server writes them) and random secrets.
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "d2l/core/error.h"
#include "d2l/ops/jupyter.h"
#include "jupyter_internal.h"

#ifdef D2L_HAVE_ARGON2
#include <argon2.h>
#endif

namespace d2l::ops {
namespace {

// Jupyter's own parameters (jupyter_server.auth.security.passwd, argon2-cffi defaults).
constexpr std::uint32_t kArgonTime = 10;
constexpr std::uint32_t kArgonMemoryKiB = 10240;
constexpr std::uint32_t kArgonLanes = 8;
constexpr std::size_t kArgonSaltBytes = 16;
constexpr std::size_t kArgonHashBytes = 16;

}  // namespace

namespace detail {

std::string random_bytes(std::size_t n) {
  std::string out(n, '\0');
  std::ifstream in("/dev/urandom", std::ios::binary);
  if (!in.read(out.data(), static_cast<std::streamsize>(n)))
    throw Error("/dev/urandom: cannot read random bytes");
  return out;
}

std::string random_hex(std::size_t bytes) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : random_bytes(bytes)) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

}  // namespace detail

std::string hash_password(const std::string& password) {
  if (password.empty()) throw bad_input("password: empty");
#ifdef D2L_HAVE_ARGON2
  const std::string salt = detail::random_bytes(kArgonSaltBytes);
  const std::size_t len = argon2_encodedlen(kArgonTime, kArgonMemoryKiB, kArgonLanes,
                                            kArgonSaltBytes, kArgonHashBytes, Argon2_id);
  std::string encoded(len, '\0');
  const int rc = argon2id_hash_encoded(kArgonTime, kArgonMemoryKiB, kArgonLanes, password.data(),
                                       password.size(), salt.data(), salt.size(), kArgonHashBytes,
                                       encoded.data(), encoded.size());
  if (rc != ARGON2_OK) throw Error(std::string("argon2: ") + argon2_error_message(rc));
  encoded.resize(std::strlen(encoded.c_str()));
  return "argon2:" + encoded;
#else
  throw Error("password: this d2l was built without libargon2 (install libargon2-dev)");
#endif
}

bool check_password(const std::string& hashed, const std::string& password) {
#ifdef D2L_HAVE_ARGON2
  const std::string prefix = "argon2:";
  if (hashed.compare(0, prefix.size(), prefix) != 0) return false;
  const std::string enc = hashed.substr(prefix.size());
  return argon2id_verify(enc.c_str(), password.data(), password.size()) == ARGON2_OK;
#else
  (void)hashed;
  (void)password;
  throw Error("password: this d2l was built without libargon2 (install libargon2-dev)");
#endif
}

void set_password(const NotebookPaths& paths, const std::string& password) {
  nlohmann::json j = detail::load_config(paths);  // throws on a corrupt config: never overwrite it
  const std::string h = hash_password(password);
  j["ServerApp"]["password"] = h;
  detail::save_config(paths, j);
}

}  // namespace d2l::ops
