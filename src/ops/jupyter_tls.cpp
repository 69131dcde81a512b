// The notebook's TLS certificate: a self-signed certificate and key (OpenSSL) and its setup.
#include <arpa/inet.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "d2l/core/atomic_file.h"
#include "d2l/core/error.h"
#include "d2l/core/paths.h"
#include "d2l/ops/jupyter.h"
#include "jupyter_internal.h"

#ifdef D2L_HAVE_OPENSSL
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#endif

namespace d2l::ops {
namespace {

std::string local_hostname() {
  char buf[256] = {0};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "";
  return buf;
}

}  // namespace

void make_self_signed_cert(const std::string& key_file, const std::string& cert_file,
                           const std::vector<std::string>& hosts, int days) {
  if (hosts.empty()) throw bad_input("cert: no host names");
  if (days <= 0) throw bad_input("cert: days must be more than 0");
#ifdef D2L_HAVE_OPENSSL
  struct Guard {
    EVP_PKEY* key = nullptr;
    X509* x = nullptr;
    ~Guard() {
      X509_free(x);
      EVP_PKEY_free(key);
    }
  } g;
  auto fail = [](const std::string& what) { throw Error("cert: " + what + " failed (OpenSSL)"); };
  g.key = EVP_RSA_gen(2048);
  if (!g.key) fail("RSA key generation");
  g.x = X509_new();
  if (!g.x) fail("X509_new");
  X509_set_version(g.x, 2);
  unsigned char serial[16];
  if (RAND_bytes(serial, sizeof serial) != 1) fail("RAND_bytes");
  serial[0] &= 0x7f;
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(g.x));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(g.x), -300);
  X509_gmtime_adj(X509_getm_notAfter(g.x), static_cast<long>(days) * 86400L);
  X509_set_pubkey(g.x, g.key);
  X509_NAME* name = X509_get_subject_name(g.x);
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("d2l notebook"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(hosts[0].c_str()), -1, -1, 0);
  X509_set_issuer_name(g.x, name);
  std::string san;
  for (const auto& h : hosts) {
    unsigned char buf[16];
    const bool ip =
        ::inet_pton(AF_INET, h.c_str(), buf) == 1 || ::inet_pton(AF_INET6, h.c_str(), buf) == 1;
    san += (san.empty() ? "" : ",") + std::string(ip ? "IP:" : "DNS:") + h;
  }
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, g.x, g.x, nullptr, nullptr, 0);
  const std::pair<int, std::string> exts[] = {
      {NID_basic_constraints, "critical,CA:TRUE,pathlen:0"},
      {NID_key_usage, "critical,digitalSignature,keyEncipherment,keyCertSign"},
      {NID_ext_key_usage, "serverAuth"},
      {NID_subject_key_identifier, "hash"},
      {NID_subject_alt_name, san},
  };
  for (const auto& [nid, value] : exts) {
    X509_EXTENSION* ext = X509V3_EXT_nconf_nid(nullptr, &ctx, nid, value.c_str());
    if (!ext) fail("extension " + value);
    X509_add_ext(g.x, ext, -1);
    X509_EXTENSION_free(ext);
  }
  if (!X509_sign(g.x, g.key, EVP_sha256())) fail("X509_sign");
  auto to_pem = [&](bool key) {
    BIO* bio = BIO_new(BIO_s_mem());
    const int ok = key ? PEM_write_bio_PrivateKey(bio, g.key, nullptr, nullptr, 0, nullptr, nullptr)
                       : PEM_write_bio_X509(bio, g.x);
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio, &data);
    std::string out(data, static_cast<std::size_t>(n > 0 ? n : 0));
    BIO_free(bio);
    if (!ok) fail("PEM write");
    return out;
  };
  write_file_atomic(key_file, to_pem(true), 0600);
  write_file_atomic(cert_file, to_pem(false), 0644);
#else
  (void)key_file;
  (void)cert_file;
  throw Error("cert: this d2l was built without OpenSSL (install libssl-dev)");
#endif
}

void setup_cert(const NotebookPaths& paths, std::vector<std::string> hosts, int days) {
  nlohmann::json j =
      detail::load_config(paths);  // fail before writing anything when the config is corrupt
  if (hosts.empty()) {
    const std::string h = local_hostname();
    if (!h.empty() && h != "localhost") hosts.push_back(h);
    hosts.insert(hosts.end(), {"localhost", "127.0.0.1", "::1"});
  }
  ensure_dir(paths.dir, 0700);
  make_self_signed_cert(paths.key_file, paths.cert_file, hosts, days);
  j["ServerApp"]["certfile"] = paths.cert_file;
  j["ServerApp"]["keyfile"] = paths.key_file;
  detail::save_config(paths, j);
}

}  // namespace d2l::ops
