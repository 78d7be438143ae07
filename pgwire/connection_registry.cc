#include "pgwire/connection_registry.h"

#include <openssl/crypto.h>

#include <cstring>
#include <string>

#include "pgwire/scram.h"

namespace timestore::pgwire {

bool ConnectionRegistry::ClaimSlot() {
  std::lock_guard<std::mutex> lock(mu_);
  if (sessions_ >= max_sessions_) return false;
  ++sessions_;
  return true;
}

void ConnectionRegistry::ReleaseSlot() {
  std::lock_guard<std::mutex> lock(mu_);
  --sessions_;
}

int ConnectionRegistry::sessions() const {
  std::lock_guard<std::mutex> lock(mu_);
  return sessions_;
}

std::pair<int32_t, int32_t> ConnectionRegistry::Register(Cancellable* conn) {
  std::lock_guard<std::mutex> lock(mu_);
  while (true) {
    // The secret is what makes a CancelRequest legitimate, so both come from
    // the CSPRNG; the pid is kept positive, as clients print it as a pid.
    const std::string bytes = RandomBytes(8);
    int32_t pid, secret;
    std::memcpy(&pid, bytes.data(), 4);
    std::memcpy(&secret, bytes.data() + 4, 4);
    pid &= 0x7fffffff;
    if (pid == 0 || keys_.count(pid)) continue;
    keys_[pid] = {secret, conn};
    return {pid, secret};
  }
}

void ConnectionRegistry::Unregister(int32_t pid) {
  std::lock_guard<std::mutex> lock(mu_);
  keys_.erase(pid);
}

bool ConnectionRegistry::Cancel(int32_t pid, int32_t secret) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = keys_.find(pid);
  if (it == keys_.end()) return false;
  if (CRYPTO_memcmp(&it->second.secret, &secret, sizeof(secret)) != 0) return false;
  it->second.conn->CancelStatement();
  return true;
}

}  // namespace timestore::pgwire
