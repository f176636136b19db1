// tools/injector/injector.cpp — hue-injector: the closed-loop HTTP/1.1 load injector of the
// Mely paper's SWS evaluation, for loopback (tools/race/race.sh loads every server with it).
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
//                --csv out.csv --label nginx
//
// What is counted, within the measured window [warm-up end, warm-up end + duration): 2xx
// responses (the requests/s) and their bytes on the wire (MB/s, MB = 10^6 bytes), the latency of
// each (from the moment its request was queued to its last byte: a connect is not in it, time in
// the socket buffer with pipelining is), connections established. Errors, each apart: connect
// failures, resets (a read or write error, or the server closing with a response cut or requests
// unanswered), time-outs, non-2xx statuses, bad responses (not valid HTTP/1.x framing). A client
// that hits an error starts a new connection (after 10 ms for a connect failure). Errors during
// warm-up are reported apart. Server closes that lose nothing (`Connection: close`, an idle close
// between requests) are not errors: `server_closes`. Percentiles have 1.6% resolution.
//
// Output: a line saying what ran, the first error if any, then `key=value` lines (race.sh reads
// them); --csv appends the same figures as one row. Exit status 0 when any 2xx response was
// measured, 1 when none, 2 on bad options.
// The client itself (epoll, framing hooks, counters) is tools/load/load_client.hpp, shared with
// microbench/echo; http_session.hpp holds what is HTTP about it.
#include "http_session.hpp"
#include "options.hpp"

#include <csignal>
#include <fstream>
#include <utility>

namespace injector {
namespace {

std::atomic<bool> interrupted{false};  // SIGINT, SIGTERM, or a thread's failure: stop early

struct options {
  std::string host = "127.0.0.1";
  unsigned port = 0;
  unsigned clients = 100;
  unsigned per_connection = 150;  // 0: never close
  unsigned pipeline = 1;
  std::vector<std::string> paths;
  double duration = 10, warmup = 1, timeout = 5;
  unsigned threads = 1;
  std::string csv, label;
};

// A request target must be sent as is: a space or control byte would break the request line.
void add_path(options& o, const std::string& p, const std::string& where) {
  if (p.empty() || p[0] != '/')
    throw CLI::ValidationError(where, "a path must start with '/', got '" + p + "'");
  for (unsigned char c : p)
    if (c <= ' ' || c == 0x7f)
      throw CLI::ValidationError(where, "no spaces or control characters in a path ('" + p +
                                            "'); percent-encode them");
  o.paths.push_back(p);
}

void read_paths(options& o, const std::string& file) {
  std::ifstream in(file);
  if (!in) throw CLI::ValidationError("--paths-file", "cannot read " + file);
  std::string line;
  for (unsigned n = 1; std::getline(in, line); ++n) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (!line.empty() && line[0] != '#') add_path(o, line, file + ":" + std::to_string(n));
  }
}

// Returns false after --help (printed).
bool parse(int argc, char** argv, options& o) {
  CLI::App app{"Closed-loop HTTP/1.1 load on a loopback server: N clients, each sends K requests "
               "on one keep-alive connection, closes, reconnects.", "hue-injector"};
  app.option_defaults()->always_capture_default();
  app.add_option("--host", o.host, "numeric address or name, loopback only");
  load::number(app, "--port", o.port, 1u, 65535u, "server port")->required()->default_str("");
  load::number(app, "--clients", o.clients, 1u, 1'000'000u, "virtual clients");
  load::number(app, "--requests-per-connection", o.per_connection, 0u, 1'000'000'000u,
               "requests per connection, then close; 0: keep it for the whole run");
  load::number(app, "--pipeline", o.pipeline, 1u, 1024u, "requests in flight per connection");
  std::vector<std::string> paths, files;
  app.add_option("--path", paths, "URL path to request; repeatable")->default_str("/index.html");
  app.add_option("--paths-file", files, "URL paths, one per line ('#' comments); after --path")
      ->default_str("");
  load::number(app, "--duration", o.duration, 0.01, 86'400.0, "measured seconds");
  load::number(app, "--warmup", o.warmup, 0.0, 86'400.0, "seconds of load before measuring");
  load::number(app, "--timeout", o.timeout, 0.001, 86'400.0,
               "a connection making no progress this long is a time-out");
  load::number(app, "--threads", o.threads, 1u, 256u, "threads, each with its share of clients");
  app.add_option("--csv", o.csv, "append one CSV row to this file (header first if it is new)");
  app.add_option("--label", o.label, "the CSV row's first column (default host:port)");
  app.footer("Prints key=value lines: requests_per_s, mb_per_s, p50_us, p90_us, p99_us, max_us\n"
             "and the error counts. Exit 0 if any 2xx response was measured.\n");
  try {
    app.parse(argc, argv);
    for (const std::string& p : paths) add_path(o, p, "--path");
    for (const std::string& f : files) read_paths(o, f);
  } catch (const CLI::CallForHelp& e) {
    app.exit(e);
    return false;
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "hue-injector: %s (try --help)\n", e.what());
    std::exit(2);
  }
  if (o.paths.empty()) o.paths.push_back("/index.html");
  if (o.per_connection != 0) o.pipeline = std::min(o.pipeline, o.per_connection);
  return true;
}

// The figures in the order of the key=value lines and the CSV columns.
std::vector<std::pair<const char*, std::string>> figures(const options& o, double secs,
                                                         const load::counters& t) {
  const load::latency_histogram& h = t.latency;
  auto f = [](double v, int decimals) {
    char b[64];
    std::snprintf(b, sizeof b, "%.*f", decimals, v);
    return std::string(b);
  };
  auto u = [](std::uint64_t v) { return std::to_string(v); };
  return {{"clients", u(o.clients)}, {"threads", u(std::min(o.threads, o.clients))},
          {"pipeline", u(o.pipeline)}, {"requests_per_connection", u(o.per_connection)},
          {"duration_s", f(secs, 3)}, {"requests", u(t.ok)},
          {"requests_per_s", f(t.ok / secs, 1)}, {"mb_per_s", f(t.bytes / secs / 1e6, 3)},
          {"p50_us", f(h.percentile(0.50) / 1e3, 1)}, {"p90_us", f(h.percentile(0.90) / 1e3, 1)},
          {"p99_us", f(h.percentile(0.99) / 1e3, 1)}, {"max_us", f(h.max() / 1e3, 1)},
          {"mean_us", f(h.mean() / 1e3, 1)}, {"connections", u(t.connections)},
          {"connect_errors", u(t.connect_errors)}, {"resets", u(t.resets)},
          {"timeouts", u(t.timeouts)}, {"non_2xx", u(t.non_2xx)},
          {"bad_responses", u(t.bad_responses)}, {"errors", u(t.errors())},
          {"warmup_errors", u(t.warmup_errors)}, {"server_closes", u(t.server_closes)}};
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char ch : s) q += ch == '"' ? std::string("\"\"") : std::string(1, ch);
  return q + "\"";
}

// Appends one row; refuses a file whose header is another program's (or an older injector's).
void write_csv(const std::string& path, const std::string& label,
               const std::vector<std::pair<const char*, std::string>>& figs) {
  std::string header = "label", row = csv_field(label);
  for (const auto& [k, v] : figs) header += std::string(",") + k, row += "," + v;
  std::string first;
  if (std::ifstream in(path); in && std::getline(in, first) && !first.empty() && first != header)
    throw std::runtime_error(path + " has another header; not appending to it");
  std::ofstream out(path, std::ios::app);
  if (first.empty()) out << header << '\n';
  out << row << '\n';
  if (!out.flush()) throw std::runtime_error("cannot write " + path);
}

int run(int argc, char** argv) {
  options o;
  if (!parse(argc, argv, o)) return 0;
  load::target target;
  try {
    target = load::resolve_loopback(o.host, o.port);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hue-injector: %s\n", e.what());
    return 2;
  }
  load::raise_fd_limit(o.clients);
  std::signal(SIGPIPE, SIG_IGN);
  std::signal(SIGINT, [](int) { interrupted.store(true); });
  std::signal(SIGTERM, [](int) { interrupted.store(true); });

  std::vector<std::string> requests;
  for (const std::string& p : o.paths)
    requests.push_back("GET " + p + " HTTP/1.1\r\nHost: " + target.text +
                       "\r\nUser-Agent: hue-injector\r\nAccept: */*\r\n\r\n");
  const load::shape shape{o.per_connection, o.pipeline,
                          static_cast<std::uint64_t>(o.timeout * 1e9)};
  const std::uint64_t warm_end = load::now_ns() + static_cast<std::uint64_t>(o.warmup * 1e9);
  const load::window w{warm_end, warm_end + static_cast<std::uint64_t>(o.duration * 1e9)};
  load::counters total;
  try {
    total = load::run<http_session>(
        target, shape, o.clients, o.threads, w,
        [&requests](unsigned client) { return http_session(requests, client); }, interrupted);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hue-injector: %s\n", e.what());
    return 1;
  }
  // Interrupted: the window is what actually ran of it.
  const std::uint64_t stopped = std::min(load::now_ns(), w.end);
  if (stopped <= warm_end) {
    std::fprintf(stderr, "hue-injector: interrupted during warm-up; nothing measured\n");
    return 1;
  }
  const double secs = (stopped - warm_end) / 1e9;
  std::printf("hue-injector: %s, %u clients on %u thread(s), %s requests per connection, "
              "pipeline %u, %zu path(s); %.2f s measured after %.2f s warm-up\n",
              target.text.c_str(), o.clients, std::min(o.threads, o.clients),
              o.per_connection ? std::to_string(o.per_connection).c_str() : "unlimited",
              o.pipeline, o.paths.size(), secs, o.warmup);
  if (!total.first_error.empty()) std::printf("first error: %s\n", total.first_error.c_str());
  const auto figs = figures(o, secs, total);
  for (const auto& [k, v] : figs) std::printf("%s=%s\n", k, v.c_str());
  try {
    if (!o.csv.empty()) write_csv(o.csv, o.label.empty() ? target.text : o.label, figs);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hue-injector: %s\n", e.what());
    return 1;
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
