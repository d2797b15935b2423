#include "ssh_session.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>

namespace hmc::ssh::detail {

namespace {

Error ssh_error(ErrorKind kind, std::string message) {
  return make_error(ErrorSource::ssh, kind, std::move(message));
}

std::string current_user() {
  if (const char* u = std::getenv("USER"); u && *u) return u;
  if (const passwd* pw = ::getpwuid(::geteuid())) return pw->pw_name;
  return "root";
}

std::string home_dir() {
  if (const char* h = std::getenv("HOME"); h && *h) return h;
  if (const passwd* pw = ::getpwuid(::geteuid())) return pw->pw_dir;
  return "/";
}

std::string base64(const unsigned char* data, std::size_t len) {
  static const char* table = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (std::size_t i = 0; i < len; i += 3) {
    unsigned v = data[i] << 16;
    if (i + 1 < len) v |= data[i + 1] << 8;
    if (i + 2 < len) v |= data[i + 2];
    out += table[(v >> 18) & 63];
    out += table[(v >> 12) & 63];
    if (i + 1 < len) out += table[(v >> 6) & 63];
    if (i + 2 < len) out += table[v & 63];
  }
  return out;  // unpadded, as ssh-keygen prints fingerprints
}

void init_libssh2() {
  static std::once_flag once;
  std::call_once(once, [] { libssh2_init(0); });
}

int knownhost_key_type(int hostkey_type) {
  switch (hostkey_type) {
    case LIBSSH2_HOSTKEY_TYPE_RSA: return LIBSSH2_KNOWNHOST_KEY_SSHRSA;
    case LIBSSH2_HOSTKEY_TYPE_DSS: return LIBSSH2_KNOWNHOST_KEY_SSHDSS;
    case LIBSSH2_HOSTKEY_TYPE_ECDSA_256: return LIBSSH2_KNOWNHOST_KEY_ECDSA_256;
    case LIBSSH2_HOSTKEY_TYPE_ECDSA_384: return LIBSSH2_KNOWNHOST_KEY_ECDSA_384;
    case LIBSSH2_HOSTKEY_TYPE_ECDSA_521: return LIBSSH2_KNOWNHOST_KEY_ECDSA_521;
    case LIBSSH2_HOSTKEY_TYPE_ED25519: return LIBSSH2_KNOWNHOST_KEY_ED25519;
    default: return LIBSSH2_KNOWNHOST_KEY_UNKNOWN;
  }
}

std::string read_first_line(const std::string& path, bool* ok) {
  std::ifstream in(path);
  *ok = static_cast<bool>(in);
  std::string line;
  std::getline(in, line);
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.pop_back();
  return line;
}

}  // namespace

bool is_session_error(int rc) {
  switch (rc) {
    case LIBSSH2_ERROR_SOCKET_SEND:
    case LIBSSH2_ERROR_SOCKET_RECV:
    case LIBSSH2_ERROR_SOCKET_DISCONNECT:
    case LIBSSH2_ERROR_SOCKET_TIMEOUT:
    case LIBSSH2_ERROR_TIMEOUT:
    case LIBSSH2_ERROR_BAD_USE:
    case LIBSSH2_ERROR_DECRYPT:
    case LIBSSH2_ERROR_PROTO:
    case LIBSSH2_ERROR_INVALID_MAC:
    case LIBSSH2_ERROR_ALLOC:
    case LIBSSH2_ERROR_BANNER_RECV:
    case LIBSSH2_ERROR_BANNER_SEND:
    case LIBSSH2_ERROR_KEX_FAILURE:
      return true;
    default:
      return false;
  }
}

Result<HostSpec> parse_host_spec(const std::string& text) {
  HostSpec spec;
  std::string rest = text;
  if (const auto at = rest.rfind('@'); at != std::string::npos) {
    spec.user = rest.substr(0, at);
    rest = rest.substr(at + 1);
    if (spec.user.empty()) {
      return ssh_error(ErrorKind::invalid, "tunnel host '" + text + "': empty user before '@'");
    }
  } else {
    spec.user = current_user();
  }
  std::string port;
  if (!rest.empty() && rest[0] == '[') {
    const auto close = rest.find(']');
    if (close == std::string::npos) return ssh_error(ErrorKind::invalid, "tunnel host '" + text + "': missing ']'");
    spec.host = rest.substr(1, close - 1);
    if (close + 1 < rest.size()) {
      if (rest[close + 1] != ':') return ssh_error(ErrorKind::invalid, "tunnel host '" + text + "': expected ':' after ']'");
      port = rest.substr(close + 2);
    }
  } else if (const auto colon = rest.find(':'); colon != std::string::npos) {
    spec.host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
  } else {
    spec.host = rest;
  }
  if (spec.host.empty()) return ssh_error(ErrorKind::invalid, "tunnel host '" + text + "': no host (expected user@host[:port])");
  if (!port.empty() || rest.find(':') != std::string::npos) {
    if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
        std::stoi(port) < 1 || std::stoi(port) > 65535) {
      return ssh_error(ErrorKind::invalid, "tunnel host '" + text + "': port must be 1..65535");
    }
    spec.port = std::stoi(port);
  }
  return spec;
}

std::string to_string(const HostSpec& h) {
  const bool v6 = h.host.find(':') != std::string::npos;
  return h.user + "@" + (v6 ? "[" + h.host + "]" : h.host) + ":" + std::to_string(h.port);
}

int tcp_connect(const std::string& host, int port, std::chrono::milliseconds timeout, std::string* why) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  const std::string service = std::to_string(port);
  if (int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &res); rc != 0) {
    if (why) *why = "cannot resolve " + host + ": " + ::gai_strerror(rc);
    return -1;
  }
  int result = -1;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (addrinfo* ai = res; ai && result < 0; ai = ai->ai_next) {
    int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) continue;
    int rc = ::connect(fd, ai->ai_addr, ai->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      pollfd p{fd, POLLOUT, 0};
      int err = ETIMEDOUT;
      if (left.count() > 0 && ::poll(&p, 1, static_cast<int>(left.count())) == 1) {
        socklen_t len = sizeof err;
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
      }
      rc = err == 0 ? 0 : -1;
      errno = err;
    }
    if (rc == 0) {
      result = fd;
    } else {
      if (why) *why = host + ":" + service + ": " + std::strerror(errno);
      ::close(fd);
    }
  }
  ::freeaddrinfo(res);
  return result;
}

Result<std::unique_ptr<SshSession>> SshSession::connect(const TunnelOptions& options, const HostSpec& host) {
  init_libssh2();
  const std::string where = to_string(host);
  std::unique_ptr<SshSession> s(new SshSession());
  s->timeout_ = options.ssh_timeout;
  std::string why;
  s->fd_ = tcp_connect(host.host, host.port, options.ssh_timeout, &why);
  if (s->fd_ < 0) return ssh_error(ErrorKind::unavailable, "cannot connect to tunnel host " + where + ": " + why);
  // A silently dead peer is noticed by TCP keepalive; a restart by the RST.
  const int on = 1;
  const int idle = std::max<int>(1, static_cast<int>(options.keepalive_interval.count() / 1000));
  const int count = 3;
  const unsigned user_timeout = static_cast<unsigned>(3 * idle * 1000);
  ::setsockopt(s->fd_, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
  ::setsockopt(s->fd_, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
  ::setsockopt(s->fd_, IPPROTO_TCP, TCP_KEEPINTVL, &idle, sizeof idle);
  ::setsockopt(s->fd_, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof count);
  ::setsockopt(s->fd_, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout, sizeof user_timeout);
  ::setsockopt(s->fd_, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);

  s->session_ = libssh2_session_init();
  if (!s->session_) return ssh_error(ErrorKind::internal, "libssh2_session_init failed");
  libssh2_session_set_blocking(s->session_, 1);
  libssh2_session_set_timeout(s->session_, static_cast<long>(options.ssh_timeout.count()));
  if (libssh2_session_handshake(s->session_, s->fd_) != 0) {
    return ssh_error(ErrorKind::unavailable, "SSH handshake with " + where + " failed: " + s->last_error());
  }

  // Host key against known_hosts.
  std::size_t key_len = 0;
  int key_type = 0;
  const char* key = libssh2_session_hostkey(s->session_, &key_len, &key_type);
  if (!key) return ssh_error(ErrorKind::unavailable, "no host key from " + where);
  std::string fingerprint = "SHA256:";
  if (const char* h = libssh2_hostkey_hash(s->session_, LIBSSH2_HOSTKEY_HASH_SHA256)) {
    fingerprint += base64(reinterpret_cast<const unsigned char*>(h), 32);
  }
  const std::string known_hosts =
      options.known_hosts_file.empty() ? home_dir() + "/.ssh/known_hosts" : options.known_hosts_file;
  LIBSSH2_KNOWNHOSTS* kh = libssh2_knownhost_init(s->session_);
  if (!kh) return ssh_error(ErrorKind::internal, "libssh2_knownhost_init failed");
  std::error_code ec;
  if (std::filesystem::exists(known_hosts, ec)) {
    if (libssh2_knownhost_readfile(kh, known_hosts.c_str(), LIBSSH2_KNOWNHOST_FILE_OPENSSH) < 0) {
      libssh2_knownhost_free(kh);
      return ssh_error(ErrorKind::invalid, "cannot read known_hosts file " + known_hosts + ": " + s->last_error());
    }
  }
  libssh2_knownhost* found = nullptr;
  const int check = libssh2_knownhost_checkp(
      kh, host.host.c_str(), host.port, key, key_len,
      LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW | knownhost_key_type(key_type), &found);
  libssh2_knownhost_free(kh);
  switch (check) {
    case LIBSSH2_KNOWNHOST_CHECK_MATCH:
      break;
    case LIBSSH2_KNOWNHOST_CHECK_MISMATCH:
      return ssh_error(ErrorKind::unauthorized,
                       "host key of " + where + " (" + fingerprint + ") does not match the one in " + known_hosts +
                           ": refusing to connect (the host key changed, or someone is in the middle)");
    case LIBSSH2_KNOWNHOST_CHECK_NOTFOUND:
      if (!options.accept_unknown_host_key) {
        return ssh_error(ErrorKind::unauthorized,
                         "host key of " + where + " (" + fingerprint + ") is not in " + known_hosts +
                             ": refusing to connect (add it to known_hosts, or set "
                             "heron.statemgr.tunnel.accept.unknown.host.key)");
      }
      if (options.log) options.log("accepting unknown host key " + fingerprint + " of " + where);
      break;
    default:
      return ssh_error(ErrorKind::unauthorized, "cannot check the host key of " + where + ": " + s->last_error());
  }

  // Authentication: the key file, else the agent, else ~/.ssh/id_*.
  std::string tried;
  bool authenticated = false;
  auto try_key = [&](const std::string& path, const std::string& passphrase) {
    const int rc = libssh2_userauth_publickey_fromfile_ex(s->session_, host.user.c_str(),
                                                          static_cast<unsigned>(host.user.size()), nullptr,
                                                          path.c_str(), passphrase.c_str());
    if (rc == 0) return true;
    tried += (tried.empty() ? "" : "; ") + path + ": " + s->last_error();
    return false;
  };
  if (!options.key_file.empty()) {
    std::string passphrase;
    if (!options.passphrase_file.empty()) {
      bool ok = false;
      passphrase = read_first_line(options.passphrase_file, &ok);
      if (!ok) return ssh_error(ErrorKind::invalid, "cannot read passphrase file " + options.passphrase_file);
    }
    if (!std::filesystem::exists(options.key_file, ec)) {
      return ssh_error(ErrorKind::invalid, "key file " + options.key_file + " does not exist");
    }
    authenticated = try_key(options.key_file, passphrase);
  } else {
    const char* agent_socket = std::getenv("SSH_AUTH_SOCK");
    if (options.use_agent && agent_socket && *agent_socket) {
      if (LIBSSH2_AGENT* agent = libssh2_agent_init(s->session_)) {
        if (libssh2_agent_connect(agent) == 0 && libssh2_agent_list_identities(agent) == 0) {
          libssh2_agent_publickey* identity = nullptr;
          libssh2_agent_publickey* prev = nullptr;
          while (!authenticated && libssh2_agent_get_identity(agent, &identity, prev) == 0) {
            authenticated = libssh2_agent_userauth(agent, host.user.c_str(), identity) == 0;
            prev = identity;
          }
          if (!authenticated) tried += (tried.empty() ? "" : "; ") + std::string("ssh-agent: no identity accepted");
          libssh2_agent_disconnect(agent);
        }
        libssh2_agent_free(agent);
      }
    }
    for (const char* name : {"id_ed25519", "id_ecdsa", "id_rsa"}) {
      if (authenticated) break;
      const std::string path = home_dir() + "/.ssh/" + name;
      if (std::filesystem::exists(path, ec)) authenticated = try_key(path, "");
    }
  }
  if (!authenticated) {
    return ssh_error(ErrorKind::unauthorized,
                     "SSH authentication as " + host.user + " on " + where + " failed" +
                         (tried.empty() ? std::string(": no key file, agent identity or ~/.ssh/id_* key to try")
                                        : ": " + tried));
  }
  // want_reply=0: the server does not answer, so an idle session has nothing
  // unread; a dead peer shows up as a failed send or through TCP keepalive.
  libssh2_keepalive_config(s->session_, 0, static_cast<unsigned>(idle));
  libssh2_session_set_blocking(s->session_, 0);
  return s;
}

SshSession::~SshSession() {
  if (session_) {
    libssh2_session_set_blocking(session_, 1);
    libssh2_session_set_timeout(session_, 1000);
    libssh2_session_disconnect(session_, "closing tunnel");
    libssh2_session_free(session_);
  }
  if (fd_ >= 0) ::close(fd_);
}

LIBSSH2_CHANNEL* SshSession::open_channel(const std::string& host, int port, std::string* why,
                                          bool* session_broken) {
  *session_broken = false;
  libssh2_session_set_blocking(session_, 1);
  libssh2_session_set_timeout(session_, static_cast<long>(timeout_.count()));
  LIBSSH2_CHANNEL* ch = libssh2_channel_direct_tcpip_ex(session_, host.c_str(), port, "127.0.0.1", 0);
  const int rc = ch ? 0 : libssh2_session_last_errno(session_);
  if (!ch) {
    if (why) *why = last_error();
    *session_broken = rc != LIBSSH2_ERROR_CHANNEL_FAILURE;
  }
  libssh2_session_set_blocking(session_, 0);
  return ch;
}

bool SshSession::wants_write() const {
  return (libssh2_session_block_directions(session_) & LIBSSH2_SESSION_BLOCK_OUTBOUND) != 0;
}

std::string SshSession::last_error() const {
  char* msg = nullptr;
  int len = 0;
  const int rc = libssh2_session_last_error(session_, &msg, &len, 0);
  std::string text = msg && len > 0 ? std::string(msg, static_cast<std::size_t>(len)) : std::string("unknown error");
  return text + " (libssh2 " + std::to_string(rc) + ")";
}

}  // namespace hmc::ssh::detail
