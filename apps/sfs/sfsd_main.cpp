// apps/sfs/sfsd_main.cpp — hue-sfsd: the SFS server (server.hpp), its key generation and options.
#include "command_line.hpp"
#include "metrics_endpoint.hpp"
#include "server.hpp"

#include <sys/resource.h>

#include <csignal>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace {

// The allow-list file: one client public key per line, 64 hex digits (blank lines and lines
// starting with '#' ignored). `hue-sfs --keygen` prints a client's public key in this form.
std::set<hue::sfs::x25519_key> read_allow_list(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read the allow-list '" + path + "'");
  std::set<hue::sfs::x25519_key> keys;
  std::string line;
  unsigned n = 0;
  while (std::getline(in, line)) {
    ++n;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    if (line.rfind("public ", 0) == 0) line.erase(0, 7);
    hue::sfs::x25519_key k{};
    auto hex = [](char ch) -> int {
      if (ch >= '0' && ch <= '9') return ch - '0';
      if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
      if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
      return -1;
    };
    bool ok = line.size() == 64;
    for (std::size_t i = 0; ok && i < 32; ++i) {
      const int hi = hex(line[2 * i]), lo = hex(line[2 * i + 1]);
      if (hi < 0 || lo < 0) ok = false;
      else k[i] = static_cast<std::uint8_t>(hi << 4 | lo);
    }
    if (!ok) throw std::runtime_error(path + ":" + std::to_string(n) + ": not a 64-hex-digit public key");
    keys.insert(k);
  }
  return keys;
}

// "127.0.0.1:9464" or "[::1]:9464".
bool parse_address(const std::string& text, hue::net::endpoint& at) {
  std::size_t colon;
  if (!text.empty() && text[0] == '[') {
    const std::size_t close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') return false;
    at.host = text.substr(1, close - 1);
    colon = close + 1;
  } else {
    colon = text.rfind(':');
    if (colon == std::string::npos || colon == 0) return false;
    at.host = text.substr(0, colon);
  }
  const std::string port = text.substr(colon + 1);
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos) return false;
  const unsigned long p = std::stoul(port);
  if (p > 65535) return false;
  at.port = static_cast<std::uint16_t>(p);
  return true;
}

// The soft descriptor limit raised to the hard one: every handle may need a descriptor at some
// point and the cache is sized from what is allowed. Returns the limit in force.
std::uint64_t raise_descriptor_limit() {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) return 1024;
  if (lim.rlim_cur < lim.rlim_max) {
    rlimit want = lim;
    want.rlim_cur = lim.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &want) == 0) lim = want;
  }
  return lim.rlim_cur == RLIM_INFINITY ? std::uint64_t{1} << 20 : static_cast<std::uint64_t>(lim.rlim_cur);
}

}  // namespace

int main(int argc, char** argv) {
  hue::config rcfg;
  hue::sfs::server_config cfg;
  cfg.at.port = 4433;
  std::string keygen, key_file, export_dir, allow_file, colors = "per-connection", metrics;
  std::size_t max_open_files = 0;
  bool quiet = false;
  CLI::App app{"Serves the directory DIR read-only over SFS: self-certifying names, a Noise_XX\n"
               "handshake and encrypted, authenticated transport (docs/sfs-protocol.md).",
               "hue-sfsd"};
  hue_apps::init(app);
  app.add_option("--keygen", keygen, "write a new key pair to FILE (mode 0600) and exit")->type_name("FILE");
  app.add_option("--key", key_file, "the server's key file")->type_name("FILE");
  app.add_option("--export", export_dir, "the directory to serve")->type_name("DIR");
  hue_apps::add_number(app, "--port", cfg.at.port, "TCP port (0 picks a free one)");
  app.add_option("--address", cfg.at.host, "numeric address to listen on")->type_name("A")->capture_default_str();
  app.add_option("--name-host", cfg.name_host,
                 "host in the printed self-certifying name (default: --address)")->type_name("H");
  app.add_option("--allow-keys", allow_file,
                 "only clients whose public key is listed in FILE (one 64-hex-digit key a line)")->type_name("FILE");
  app.add_option("--coloring", colors,
                 "per-connection (network and crypto of a connection on its color, the export on "
                 "one color) or paper (only the crypto handlers colored, as libasync-smp)")
      ->check(CLI::IsMember({"per-connection", "paper"}))->type_name("C")->capture_default_str();
  hue_apps::add_runtime_options(app, rcfg);
  hue_apps::add_number(app, "--max-clients", cfg.max_clients, "simultaneous clients; more wait in the backlog");
  hue_apps::add_number(app, "--max-handshakes", cfg.max_handshakes,
                       "connections in their handshake at once; when full, a new one evicts a stalled one");
  hue_apps::add_number(app, "--max-handshakes-per-source", cfg.max_handshakes_per_source,
                       "handshake slots one source (IPv4 address, IPv6 /64) may hold; past it the "
                       "source's own stalled handshake is evicted");
  hue_apps::add_millis(app, "--handshake-timeout", cfg.handshake_timeout, "time allowed for the handshake");
  hue_apps::add_millis(app, "--handshake-timeout-under-pressure", cfg.handshake_timeout_under_pressure,
                       "time allowed for the handshake while more than half the slots are in use");
  hue_apps::add_millis(app, "--idle-timeout", cfg.idle_timeout, "time allowed without progress");
  hue_apps::add_millis(app, "--shutdown-grace", cfg.shutdown_grace, "on SIGTERM, time left to in-flight requests");
  hue_apps::add_number(app, "--max-outstanding", cfg.max_outstanding, "requests served at once per connection");
  hue_apps::add_number(app, "--max-requests-per-client", cfg.max_requests_per_client,
                       "requests one connection may have in flight; past it: too_many_requests");
  hue_apps::add_number(app, "--max-handles-per-client", cfg.limits.max_handles_per_client,
                       "handles one connection may hold (0: no quota); past it LOOKUP: too_many_handles");
  hue_apps::add_number(app, "--max-open-files", max_open_files,
                       "descriptors the export keeps open (0: sized from the descriptor limit)");
  app.add_option("--metrics", metrics,
                 "serve GET /metrics (Prometheus text format) on this loopback ADDRESS:PORT")
      ->type_name("ADDRESS:PORT");
  hue_apps::add_number(app, "--max-output", cfg.max_output,
                       "sealed bytes waiting for a slow client before its requests stop being read");
  std::uint64_t rekey_frames = cfg.transport.rekey_interval;
  hue_apps::add_number(app, "--rekey-frames", rekey_frames,
                       "frames per direction between two REKEYs (both ends must use the same; the "
                       "protocol's is 2^20: other values are for testing)");
  app.add_flag("--quiet", quiet, "no statistics at exit");
  app.footer("Signals: SIGTERM or SIGINT stop gracefully (exit 0); SIGUSR1 prints statistics.\n"
             "Exit codes: 0 ok, 1 run-time error (key file, export, port), 2 usage error.");
  if (const auto code = hue_apps::parse(app, argc, argv)) return *code;

  try {
    if (!keygen.empty()) {
      const auto kp = hue::sfs::generate_key_pair();
      hue::sfs::write_key_file(keygen, kp);
      std::printf("hue-sfsd: wrote %s\n", keygen.c_str());
      return 0;
    }
    if (key_file.empty() || export_dir.empty()) {
      std::fprintf(stderr, "hue-sfsd: --key FILE and --export DIR are required (or --keygen FILE)\n");
      return 2;
    }
    if (rekey_frames == 0 || rekey_frames >= hue::sfs::max_nonce) {
      std::fprintf(stderr, "hue-sfsd: --rekey-frames: must be in 1 .. 2^64 - 2\n");
      return 2;
    }
    hue::net::endpoint metrics_at;
    if (!metrics.empty()) {
      if (!parse_address(metrics, metrics_at)) {
        std::fprintf(stderr, "hue-sfsd: --metrics: '%s' is not ADDRESS:PORT (e.g. 127.0.0.1:9464)\n", metrics.c_str());
        return 2;
      }
      if (!hue::sfs::is_loopback(metrics_at.host)) {
        std::fprintf(stderr, "hue-sfsd: --metrics: %s is not a loopback address (127.0.0.0/8 or ::1): the "
                     "metrics are not authenticated and are served on this machine only\n", metrics_at.host.c_str());
        return 2;
      }
    }
    const std::uint64_t nofile = raise_descriptor_limit();
    const unsigned clients_asked = cfg.max_clients;
    hue::sfs::fit_to_descriptors(nofile, max_open_files, cfg);
    cfg.transport.rekey_interval = rekey_frames;
    cfg.keys = hue::sfs::read_key_file(key_file);
    cfg.export_dir = export_dir;
    cfg.colors = colors == "paper" ? hue::sfs::coloring::paper : hue::sfs::coloring::per_connection;
    if (!allow_file.empty()) {
      cfg.allow = read_allow_list(allow_file);
      cfg.use_allow_list = true;
    }
    rcfg.name = "sfs";
    // Spin 4 us (the `pause` part only) rather than the runtime's 50 us, as SWS does: in the SFS
    // race (16 clients on the same 2 cores) the yielding part of the spin was about a quarter of
    // the server's CPU. Three interleaved rounds of 3 x 16 clients reading 32 MiB: 4 us used
    // 0.72-0.86x the CPU per GB of 50 us, in both colorings, and served as much or more.
    if (!rcfg.idle_spin && !std::getenv("HUE_IDLE_SPIN_US"))
      rcfg.idle_spin = std::chrono::microseconds(4);
    hue::runtime rt(rcfg);
    hue::reactor io(rt);
    auto srv = std::make_unique<hue::sfs::server>(io, cfg);
    std::unique_ptr<hue::sfs::metrics_endpoint> metrics_port;
    if (!metrics.empty())
      metrics_port = std::make_unique<hue::sfs::metrics_endpoint>(io, metrics_at, [&srv] { return srv->metrics_text(); });
    auto stop = [&srv](int) { srv->shutdown(); };
    const hue::color_t sig_color = rt.new_color();
    hue::registration term = io.on_signal(SIGTERM, sig_color, stop);
    hue::registration intr = io.on_signal(SIGINT, sig_color, stop);
    hue::registration usr1 = io.on_signal(SIGUSR1, rt.new_color(), [&](int) {
      std::fputs(rt.stats().dump().c_str(), stderr);
      srv->print_stats(stderr);
    });
    const std::string clients_note =
        cfg.max_clients < clients_asked ? ", " + std::to_string(cfg.max_clients) + " clients at most" : "";
    std::printf("hue-sfsd: serving %s as %s (%s coloring, %u workers, stealing %s, io %s, descriptor limit "
                "%llu, %zu kept open for files%s%s%s)\n", export_dir.c_str(), srv->name().c_str(), colors.c_str(),
                rt.workers(), rcfg.steal ? rcfg.steal->name().c_str() : "HUE_STEAL or all", io.backend(),
                static_cast<unsigned long long>(nofile),
                cfg.limits.max_open, clients_note.c_str(), metrics_port ? ", metrics on port " : "",
                metrics_port ? std::to_string(metrics_port->port()).c_str() : "");
    std::fflush(stdout);
    rt.wait();
    if (!quiet) {
      std::fputs(rt.stats().dump().c_str(), stderr);
      srv->print_stats(stderr);
    }
    term.reset();
    intr.reset();
    usr1.reset();
    metrics_port.reset();
    srv.reset();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hue-sfsd: %s\n", e.what());
    return 1;
  }
  return 0;
}
