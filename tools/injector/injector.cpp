// tools/injector/injector.cpp — hue-injector: the closed-loop HTTP/1.1 load injector of the
// paper's SWS evaluation (seeds/004 §5.3.1, Fig. 6), for loopback.
//
// N virtual clients; each connects, sends K GET requests on that one keep-alive connection (the
// paper: K = 150), waits for each response before sending the next (or keeps up to --pipeline
// requests in flight), closes, and starts again with a new connection. The client closes (after
// the K-th response), not the server: the TIME_WAIT state stays on the injector's side, where the
// kernel accounts for it when it picks the next ephemeral port. (Asking with `Connection: close`
// would leave it on the server's side, and on loopback a reconnect from the same port then runs
// into that TIME_WAIT socket now and then, which shows up as refused connects.) Paths are taken
// round-robin from the list, each client starting at a different one. Closed loop: the offered
// load is whatever the server sustains.
//
//   hue-injector --port 8080 --clients 100 --path /index.html --duration 10
//   hue-injector --port 8080 --clients 250 --paths-file paths.txt --warmup 2 --duration 30
//                --csv out.csv --label nginx          (one command, wrapped here)
//
// Options (defaults in brackets):
//   --host H                     numeric address or name; must be loopback [127.0.0.1]
//   --port N                     server port (required)
//   --clients N                  virtual clients [100]
//   --requests-per-connection K  requests per connection, then close [150]; 0: never close
//   --pipeline N                 requests in flight per connection [1]
//   --path P                     a URL path to request (repeatable) [/index.html]
//   --paths-file F               URL paths, one per line ('#' comments, blank lines skipped)
//   --duration S                 measured seconds [10]
//   --warmup S                   seconds of load before measuring starts [1]
//   --timeout S                  a connection making no progress this long is a time-out [5]
//   --threads N                  threads, each with its own epoll and share of the clients [1]
//   --csv F                      also write one CSV row to F (header first if F is new or empty)
//   --label TEXT                 the CSV row's first column [host:port]
//   --help
//
// What is counted. Within the measured window [warm-up end, warm-up end + duration): responses
// by status (2xx are the requests/s; anything else is a `non-2xx` error), response bytes on the
// wire (status line, headers, body: MB/s with MB = 10^6 bytes), the latency of each 2xx response
// (from the moment its request was queued to the moment its last byte was read; so a connect is
// not in it, but time waiting in the socket buffer with pipelining is), connections established.
// Errors, each separately: connect failures, resets (a read or write error, or the server closing
// with a response cut or requests unanswered), time-outs, non-2xx statuses, bad responses (not
// valid HTTP/1.x framing). A client that hits an error closes its connection and starts a new one
// (after 10 ms for a connect failure, so a dead server is not hammered). Errors during warm-up are
// reported apart. Server-initiated closes that lose nothing (`Connection: close` or an idle close
// between requests) are not errors; they are counted as `server_closes`.
//
// Latency percentiles come from a log-linear histogram (1.6% resolution; latency_histogram.hpp).
// Output: a table on stdout, then `key=value` lines (for scripts: tools/race/race.sh parses them).
// Exit status 0 when any 2xx response was measured, 1 when none, 2 on bad options.
//
// No hue dependency: plain epoll (edge-triggered) and non-blocking sockets, so it loads every
// server the same way. Loopback only: it refuses any other address, so it cannot be pointed at
// someone else's machine.
//
// Files: this one has the options, the loopback check, the threads and the report;
// load_worker.hpp one thread's clients and event loop; response_parser.hpp where a response ends;
// latency_histogram.hpp the percentiles.
#include "load_worker.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace injector {
namespace {

std::atomic<bool> interrupted{false};  // SIGINT, SIGTERM, or a thread's failure: stop early

struct options {
  std::string host = "127.0.0.1";
  int port = -1;
  unsigned clients = 100;
  unsigned per_connection = 150;  // 0: never close
  unsigned pipeline = 1;
  std::vector<std::string> paths;
  double duration = 10;
  double warmup = 1;
  double timeout = 5;
  unsigned threads = 1;
  std::string csv;
  std::string label;
};

void usage(std::FILE* to) {
  std::fprintf(to,
      "usage: hue-injector --port N [options]\n"
      "Closed-loop HTTP/1.1 load on a loopback server: N clients, each sends K requests on one\n"
      "keep-alive connection, closes, reconnects (the paper's SWS injector, seeds/004 5.3.1).\n"
      "  --host H                     numeric address or name, loopback only (default 127.0.0.1)\n"
      "  --port N                     server port (required)\n"
      "  --clients N                  virtual clients (default 100)\n"
      "  --requests-per-connection K  requests per connection, then close (default 150;\n"
      "                               0: keep each connection for the whole run)\n"
      "  --pipeline N                 requests in flight per connection (default 1)\n"
      "  --path P                     URL path to request; repeatable (default /index.html)\n"
      "  --paths-file F               URL paths, one per line ('#' comments allowed)\n"
      "  --duration S                 measured seconds (default 10)\n"
      "  --warmup S                   seconds of load before measuring (default 1)\n"
      "  --timeout S                  no progress for S seconds is a time-out (default 5)\n"
      "  --threads N                  injector threads, clients shared among them (default 1)\n"
      "  --csv F                      append one CSV row to F (header first if F is new)\n"
      "  --label TEXT                 first CSV column (default host:port)\n"
      "  --help                       this text\n"
      "Prints a table, then key=value lines: requests_per_s, mb_per_s, p50_us, p90_us, p99_us,\n"
      "max_us, and the error counts. Exit 0 if any 2xx response was measured, else 1.\n");
}

unsigned to_unsigned(const std::string& opt, const std::string& v, unsigned lo, unsigned hi) {
  std::size_t used = 0;
  unsigned long x = 0;
  try {
    x = std::stoul(v, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != v.size() || v.empty() || v[0] == '-' || x < lo || x > hi)
    throw std::invalid_argument(opt + " wants an integer in [" + std::to_string(lo) + ", " +
                                std::to_string(hi) + "], got '" + v + "'");
  return static_cast<unsigned>(x);
}

double to_seconds(const std::string& opt, const std::string& v, double lo) {
  std::size_t used = 0;
  double x = -1;
  try {
    x = std::stod(v, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != v.size() || !(x >= lo) || x > 86400)
    throw std::invalid_argument(opt + " wants seconds >= " + std::to_string(lo) + ", got '" + v +
                                "'");
  return x;
}

void add_path(options& o, const std::string& p, const std::string& where) {
  if (p.empty() || p[0] != '/')
    throw std::invalid_argument(where + ": a path must start with '/', got '" + p + "'");
  for (unsigned char c : p)
    if (c <= ' ' || c == 0x7f)
      throw std::invalid_argument(where + ": a path may not hold spaces or control characters ('" +
                                  p + "'); percent-encode them");
  o.paths.push_back(p);
}

options parse_options(int argc, char** argv, bool& help) {
  options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument(a + " needs a value");
      return argv[++i];
    };
    if (a == "--help" || a == "-h") {
      help = true;
      return o;
    } else if (a == "--host") {
      o.host = value();
    } else if (a == "--port") {
      o.port = static_cast<int>(to_unsigned(a, value(), 1, 65535));
    } else if (a == "--clients") {
      o.clients = to_unsigned(a, value(), 1, 1'000'000);
    } else if (a == "--requests-per-connection") {
      o.per_connection = to_unsigned(a, value(), 0, 1'000'000'000);
    } else if (a == "--pipeline") {
      o.pipeline = to_unsigned(a, value(), 1, 1024);
    } else if (a == "--path") {
      add_path(o, value(), "--path");
    } else if (a == "--paths-file") {
      const std::string f = value();
      std::ifstream in(f);
      if (!in) throw std::invalid_argument("--paths-file: cannot read " + f);
      std::string line;
      unsigned n = 0;
      while (std::getline(in, line)) {
        ++n;
        while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
        if (line.empty() || line[0] == '#') continue;
        add_path(o, line, f + ":" + std::to_string(n));
      }
    } else if (a == "--duration") {
      o.duration = to_seconds(a, value(), 0.01);
    } else if (a == "--warmup") {
      o.warmup = to_seconds(a, value(), 0);
    } else if (a == "--timeout") {
      o.timeout = to_seconds(a, value(), 0.001);
    } else if (a == "--threads") {
      o.threads = to_unsigned(a, value(), 1, 256);
    } else if (a == "--csv") {
      o.csv = value();
    } else if (a == "--label") {
      o.label = value();
    } else {
      throw std::invalid_argument("unknown option " + a);
    }
  }
  if (o.port < 0) throw std::invalid_argument("--port is required");
  if (o.paths.empty()) o.paths.push_back("/index.html");
  if (o.threads > o.clients) o.threads = o.clients;
  if (o.per_connection != 0 && o.pipeline > o.per_connection) o.pipeline = o.per_connection;
  return o;
}

bool is_loopback(const sockaddr_storage& ss) {
  if (ss.ss_family == AF_INET) {
    const auto& a = reinterpret_cast<const sockaddr_in&>(ss);
    return (ntohl(a.sin_addr.s_addr) >> 24) == 127;
  }
  if (ss.ss_family == AF_INET6) {
    const auto& a = reinterpret_cast<const sockaddr_in6&>(ss).sin6_addr;
    if (IN6_IS_ADDR_LOOPBACK(&a)) return true;
    return IN6_IS_ADDR_V4MAPPED(&a) && a.s6_addr[12] == 127;
  }
  return false;
}

std::string numeric(const sockaddr_storage& ss, socklen_t len) {
  char host[NI_MAXHOST];
  if (getnameinfo(reinterpret_cast<const sockaddr*>(&ss), len, host, sizeof host, nullptr, 0,
                  NI_NUMERICHOST) != 0)
    return "?";
  return host;
}

// Resolves host:port; every address it resolves to must be loopback, or we refuse.
void resolve_loopback(const options& o, sockaddr_storage& out, socklen_t& out_len) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* res = nullptr;
  const std::string port = std::to_string(o.port);
  if (const int rc = getaddrinfo(o.host.c_str(), port.c_str(), &hints, &res); rc != 0)
    throw std::runtime_error("cannot resolve '" + o.host + "': " + gai_strerror(rc));
  bool first = true;
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    sockaddr_storage ss{};
    std::memcpy(&ss, ai->ai_addr, ai->ai_addrlen);
    if (!is_loopback(ss)) {
      const std::string addr = numeric(ss, ai->ai_addrlen);
      freeaddrinfo(res);
      throw std::runtime_error("refusing '" + o.host + "' (" + addr +
                               "): not a loopback address. hue-injector loads only servers on "
                               "this machine (127.0.0.0/8 or ::1)");
    }
    if (first) {
      out = ss;
      out_len = static_cast<socklen_t>(ai->ai_addrlen);
      first = false;
    }
  }
  freeaddrinfo(res);
  if (first) throw std::runtime_error("'" + o.host + "' resolves to no address");
}

void raise_fd_limit(unsigned clients) {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return;
  const rlim_t want = static_cast<rlim_t>(clients) + 64;
  if (rl.rlim_cur >= want) return;
  rl.rlim_cur = rl.rlim_max == RLIM_INFINITY ? want : std::min(want, rl.rlim_max);
  setrlimit(RLIMIT_NOFILE, &rl);
  if (rl.rlim_cur < want)
    std::fprintf(stderr, "hue-injector: warning: the fd limit (%llu) is below the %u clients\n",
                 static_cast<unsigned long long>(rl.rlim_cur), clients);
}

const char csv_header[] =
    "label,clients,threads,pipeline,requests_per_connection,duration_s,requests,requests_per_s,"
    "mb_per_s,p50_us,p90_us,p99_us,max_us,mean_us,connections,connect_errors,resets,timeouts,"
    "non_2xx,bad_responses,server_closes";

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char ch : s) q += ch == '"' ? std::string("\"\"") : std::string(1, ch);
  return q + "\"";
}

void write_csv(const options& o, const std::string& label, double secs, const counters& t) {
  bool need_header = true;
  {
    std::ifstream in(o.csv);
    std::string first;
    if (in && std::getline(in, first) && !first.empty()) {
      if (first != csv_header)
        throw std::runtime_error(o.csv + " has another header; not appending to it");
      need_header = false;
    }
  }
  std::FILE* f = std::fopen(o.csv.c_str(), "a");
  if (f == nullptr) throw std::runtime_error("cannot write " + o.csv + ": " + std::strerror(errno));
  const latency_histogram& h = t.latency;
  if (need_header) std::fprintf(f, "%s\n", csv_header);
  std::fprintf(f, "%s,%u,%u,%u,%u,%.3f,%llu,%.1f,%.3f,%.1f,%.1f,%.1f,%.1f,%.1f,%llu,%llu,%llu,"
               "%llu,%llu,%llu,%llu\n",
               csv_field(label).c_str(), o.clients, o.threads, o.pipeline, o.per_connection, secs,
               static_cast<unsigned long long>(t.ok), t.ok / secs, t.bytes / secs / 1e6,
               h.percentile(0.50) / 1e3, h.percentile(0.90) / 1e3, h.percentile(0.99) / 1e3,
               h.max() / 1e3, h.mean() / 1e3, static_cast<unsigned long long>(t.connections),
               static_cast<unsigned long long>(t.connect_errors),
               static_cast<unsigned long long>(t.resets),
               static_cast<unsigned long long>(t.timeouts),
               static_cast<unsigned long long>(t.non_2xx),
               static_cast<unsigned long long>(t.bad_responses),
               static_cast<unsigned long long>(t.server_closes));
  std::fclose(f);
}

void report(const options& o, const std::string& target, double secs, const counters& t) {
  const latency_histogram& h = t.latency;
  const double rps = t.ok / secs, mbps = t.bytes / secs / 1e6;
  std::printf("hue-injector: %s, %u clients on %u thread%s, %s requests per connection, "
              "pipeline %u, %zu path%s; %.2f s measured after %.2f s warm-up\n",
              target.c_str(), o.clients, o.threads, o.threads == 1 ? "" : "s",
              o.per_connection ? std::to_string(o.per_connection).c_str() : "unlimited",
              o.pipeline, o.paths.size(), o.paths.size() == 1 ? "" : "s", secs, o.warmup);
  std::printf("%12s %9s %9s %9s %9s %9s %9s %8s\n", "requests/s", "MB/s", "p50 ms", "p90 ms",
              "p99 ms", "max ms", "conn/s", "errors");
  std::printf("%12.1f %9.2f %9.3f %9.3f %9.3f %9.3f %9.1f %8llu\n", rps, mbps,
              h.percentile(0.50) / 1e6, h.percentile(0.90) / 1e6, h.percentile(0.99) / 1e6,
              h.max() / 1e6, t.connections / secs, static_cast<unsigned long long>(t.errors()));
  std::printf("errors: connect %llu, reset %llu, timeout %llu, non-2xx %llu, bad response %llu "
              "(during warm-up: %llu); server-initiated closes: %llu\n",
              static_cast<unsigned long long>(t.connect_errors),
              static_cast<unsigned long long>(t.resets),
              static_cast<unsigned long long>(t.timeouts),
              static_cast<unsigned long long>(t.non_2xx),
              static_cast<unsigned long long>(t.bad_responses),
              static_cast<unsigned long long>(t.warmup_errors),
              static_cast<unsigned long long>(t.server_closes));
  if (!t.first_error.empty()) std::printf("first error: %s\n", t.first_error.c_str());
  std::printf("clients=%u\nthreads=%u\npipeline=%u\nrequests_per_connection=%u\nduration_s=%.3f\n"
              "requests=%llu\nrequests_per_s=%.1f\nmb_per_s=%.3f\np50_us=%.1f\np90_us=%.1f\n"
              "p99_us=%.1f\nmax_us=%.1f\nmean_us=%.1f\nconnections=%llu\nconnect_errors=%llu\n"
              "resets=%llu\ntimeouts=%llu\nnon_2xx=%llu\nbad_responses=%llu\nerrors=%llu\n"
              "warmup_errors=%llu\nserver_closes=%llu\n",
              o.clients, o.threads, o.pipeline, o.per_connection, secs,
              static_cast<unsigned long long>(t.ok), rps, mbps, h.percentile(0.50) / 1e3,
              h.percentile(0.90) / 1e3, h.percentile(0.99) / 1e3, h.max() / 1e3, h.mean() / 1e3,
              static_cast<unsigned long long>(t.connections),
              static_cast<unsigned long long>(t.connect_errors),
              static_cast<unsigned long long>(t.resets),
              static_cast<unsigned long long>(t.timeouts),
              static_cast<unsigned long long>(t.non_2xx),
              static_cast<unsigned long long>(t.bad_responses),
              static_cast<unsigned long long>(t.errors()),
              static_cast<unsigned long long>(t.warmup_errors),
              static_cast<unsigned long long>(t.server_closes));
}

int run(int argc, char** argv) {
  bool help = false;
  options o;
  try {
    o = parse_options(argc, argv, help);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hue-injector: %s\n", e.what());
    usage(stderr);
    return 2;
  }
  if (help) {
    usage(stdout);
    return 0;
  }

  sockaddr_storage addr{};
  socklen_t addr_len = 0;
  try {
    resolve_loopback(o, addr, addr_len);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hue-injector: %s\n", e.what());
    return 2;
  }
  std::string target = numeric(addr, addr_len);
  if (addr.ss_family == AF_INET6) target = "[" + target + "]";
  target += ":" + std::to_string(o.port);
  const std::string label = o.label.empty() ? target : o.label;

  raise_fd_limit(o.clients);
  std::signal(SIGPIPE, SIG_IGN);
  std::signal(SIGINT, [](int) { interrupted.store(true); });
  std::signal(SIGTERM, [](int) { interrupted.store(true); });

  const std::vector<std::string> requests = build_requests(o.paths, target);
  const load_shape shape{o.per_connection, o.pipeline,
                         static_cast<std::uint64_t>(o.timeout * 1e9)};
  const std::uint64_t start = now_ns();
  const std::uint64_t warm_end = start + static_cast<std::uint64_t>(o.warmup * 1e9);
  const std::uint64_t end = warm_end + static_cast<std::uint64_t>(o.duration * 1e9);

  std::vector<std::unique_ptr<worker>> workers;
  unsigned first = 0;
  for (unsigned t = 0; t < o.threads; ++t) {
    const unsigned n = o.clients / o.threads + (t < o.clients % o.threads ? 1 : 0);
    workers.push_back(std::make_unique<worker>(shape, requests, addr, addr_len, first, n, warm_end,
                                               end, interrupted));
    first += n;
  }
  std::vector<std::thread> threads;
  std::vector<std::string> failures(o.threads);
  for (unsigned t = 0; t < o.threads; ++t)
    threads.emplace_back([&, t] {
      try {
        workers[t]->run();
      } catch (const std::exception& e) {
        failures[t] = e.what();
        interrupted.store(true);
      }
    });
  for (std::thread& th : threads) th.join();
  const std::uint64_t stopped = std::min(now_ns(), end);
  for (const std::string& f : failures)
    if (!f.empty()) {
      std::fprintf(stderr, "hue-injector: %s\n", f.c_str());
      return 1;
    }

  counters total;
  for (const auto& w : workers) total.merge(w->stats());
  // Interrupted: the window is what actually ran of it.
  const double secs = stopped > warm_end ? (stopped - warm_end) / 1e9 : 0.0;
  if (secs <= 0) {
    std::fprintf(stderr, "hue-injector: interrupted during warm-up; nothing measured\n");
    return 1;
  }
  report(o, target, secs, total);
  if (!o.csv.empty()) {
    try {
      write_csv(o, label, secs, total);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "hue-injector: %s\n", e.what());
      return 1;
    }
  }
  if (total.ok == 0) {
    std::fprintf(stderr, "hue-injector: no 2xx response was measured (%llu errors)\n",
                 static_cast<unsigned long long>(total.errors() + total.warmup_errors));
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace injector

int main(int argc, char** argv) { return injector::run(argc, argv); }
