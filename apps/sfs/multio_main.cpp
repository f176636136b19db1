// apps/sfs/multio_main.cpp — hue-multio, the paper's SFS load client: N clients, each on its own
// connection and thread, read one large file with a window of READs outstanding; per-client and
// aggregate MB/s, READ latency percentiles, and every complete pass checked against the server's
// SHA-256 (DIGEST). Made to be driven by a script (--json, one object on stdout).
//
//   hue-multio NAME PATH --clients 16 --duration 10 --json
//   hue-multio NAME PATH --clients 4 --bytes 268435456      (each client reads B bytes)
#include "client.hpp"
#include "command_line.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {
using namespace hue::sfs;
using sclock = std::chrono::steady_clock;

struct client_result {
  std::uint64_t bytes = 0;
  double seconds = 0;
  unsigned passes_verified = 0, passes_failed = 0;
  std::uint64_t unverified_bytes = 0;  // a last, partial pass cut by --duration/--bytes
  std::vector<double> latencies_us;
  std::string error;
  int exit = 0;
};

double percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  const std::size_t k = std::min(v.size() - 1, static_cast<std::size_t>(p / 100.0 * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

}  // namespace

int main(int argc, char** argv) {
  std::string name_text, path, key_file;
  unsigned clients = 1, window = 16, duration_s = 0;
  std::uint64_t bytes = 0;
  std::uint32_t block = static_cast<std::uint32_t>(max_read);
  bool json = false;
  CLI::App app{"SFS load client: N connections each read PATH from the server NAME, again and again.", "hue-multio"};
  hue_apps::init(app);
  app.add_option("name", name_text, "the server's self-certifying name host:port:HOSTID")->required();
  app.add_option("path", path, "the file to read (under the export root)")->required();
  hue_apps::add_number(app, "--clients", clients, "connections, one thread each");
  hue_apps::add_number(app, "--window", window, "READs outstanding per connection");
  hue_apps::add_number(app, "--block", block, "bytes per READ (at most 65536)");
  auto* d = hue_apps::add_number(app, "--duration", duration_s, "seconds to run (stop issuing READs after)");
  auto* b = hue_apps::add_number(app, "--bytes", bytes, "bytes each client reads (default: the file once)");
  d->excludes(b);
  app.add_option("--key", key_file, "client key file (default: fresh keys per connection)")->type_name("FILE");
  app.add_flag("--json", json, "one JSON object on stdout");
  app.footer("Exit codes: 0 ok, 7 content mismatch, others as hue-sfs (first failing client).");
  if (const auto code = hue_apps::parse(app, argc, argv)) return *code;
  if (clients == 0 || block == 0 || block > max_read) {
    std::fprintf(stderr, "hue-multio: --clients must be >= 1 and --block 1..65536\n");
    return 2;
  }
  sfs_name name;
  client_options o;
  try {
    name = parse_name(name_text);
    if (!key_file.empty()) o.keys = read_key_file(key_file);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hue-multio: %s\n", e.what());
    return 2;
  }

  std::vector<client_result> results(clients);
  std::atomic<bool> time_up{false};
  std::atomic<std::uint64_t> file_size{0};
  const auto start = sclock::now();
  std::vector<std::thread> threads;
  for (unsigned i = 0; i < clients; ++i) {
    threads.emplace_back([&, i] {
      client_result& r = results[i];
      const auto t0 = sclock::now();
      try {
        client c(name, o);
        const reply f = resolve(c, path);
        if (f.attr.type != file_type::regular) throw client_failure(exit_code::remote, path + ": not a regular file");
        const reply dg = c.digest(f.handle);
        file_size = dg.digest_size;
        const std::uint64_t target = bytes ? bytes : (duration_s ? ~0ull : std::max<std::uint64_t>(dg.digest_size, 1));
        read_stats st;
        std::uint64_t issued = 0;
        auto keep_going = [&] {
          if (time_up.load(std::memory_order_relaxed) || issued >= target) return false;
          issued += block;
          return true;
        };
        while (issued < target && !time_up.load()) {
          std::uint64_t pass = 0;
          const auto sha = c.read_file(f.handle, window, [&](std::span<const std::uint8_t> x) { pass += x.size(); },
                                       &st, block, keep_going);
          if (pass == dg.digest_size) {
            if (sha == dg.sha256) ++r.passes_verified;
            else ++r.passes_failed;
          } else {
            r.unverified_bytes += pass;
          }
          if (dg.digest_size == 0) break;
        }
        r.bytes = st.bytes;
        r.latencies_us = std::move(st.latencies_us);
        r.seconds = std::chrono::duration<double>(sclock::now() - t0).count();
        c.close();
        if (r.passes_failed) r.exit = static_cast<int>(exit_code::checksum);
      } catch (const client_failure& e) {
        r.error = e.what();
        r.exit = static_cast<int>(e.code());
      } catch (const std::exception& e) {
        r.error = e.what();
        r.exit = 1;
      }
      if (r.seconds == 0) r.seconds = std::chrono::duration<double>(sclock::now() - t0).count();
    });
  }
  if (duration_s) {
    const auto until = start + std::chrono::seconds(duration_s);
    while (sclock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    time_up = true;
  }
  for (auto& t : threads) t.join();
  const double wall = std::chrono::duration<double>(sclock::now() - start).count();

  std::uint64_t total = 0;
  unsigned verified = 0, failed = 0;
  std::uint64_t unverified = 0;
  int exit = 0;
  std::vector<double> lat;
  for (auto& r : results) {
    total += r.bytes;
    verified += r.passes_verified;
    failed += r.passes_failed;
    unverified += r.unverified_bytes;
    lat.insert(lat.end(), r.latencies_us.begin(), r.latencies_us.end());
    if (!exit && r.exit) exit = r.exit;
  }
  const double mb = 1e6;
  const double p50 = percentile(lat, 50), p90 = percentile(lat, 90), p99 = percentile(lat, 99),
               pmax = lat.empty() ? 0 : *std::max_element(lat.begin(), lat.end());
  if (json) {
    std::printf("{\"clients\": %u, \"window\": %u, \"block\": %u, \"file_bytes\": %llu, \"seconds\": %.4f, "
                "\"bytes\": %llu, \"aggregate_MBps\": %.2f, \"per_client_MBps\": [",
                clients, window, block, static_cast<unsigned long long>(file_size.load()), wall,
                static_cast<unsigned long long>(total), static_cast<double>(total) / mb / wall);
    for (unsigned i = 0; i < clients; ++i)
      std::printf("%s%.2f", i ? ", " : "",
                  results[i].seconds > 0 ? static_cast<double>(results[i].bytes) / mb / results[i].seconds : 0.0);
    std::printf("], \"reads\": %zu, \"latency_us\": {\"p50\": %.1f, \"p90\": %.1f, \"p99\": %.1f, \"max\": %.1f}, "
                "\"passes_verified\": %u, \"passes_failed\": %u, \"unverified_bytes\": %llu, \"content_ok\": %s, "
                "\"errors\": [",
                lat.size(), p50, p90, p99, pmax, verified, failed, static_cast<unsigned long long>(unverified),
                failed == 0 && exit == 0 ? "true" : "false");
    bool first = true;
    for (unsigned i = 0; i < clients; ++i) {
      if (results[i].error.empty()) continue;
      std::string e;
      for (char ch : results[i].error) {
        if (ch == '"' || ch == '\\') e.push_back('\\');
        if (static_cast<unsigned char>(ch) >= 0x20) e.push_back(ch);
      }
      std::printf("%s{\"client\": %u, \"exit\": %d, \"message\": \"%s\"}", first ? "" : ", ", i, results[i].exit, e.c_str());
      first = false;
    }
    std::printf("]}\n");
  } else {
    std::printf("hue-multio: %u clients, %.2f s, %.2f MB/s aggregate; READ latency p50 %.0f us p90 %.0f us p99 %.0f us "
                "max %.0f us; %u passes verified, %u failed\n",
                clients, wall, static_cast<double>(total) / mb / wall, p50, p90, p99, pmax, verified, failed);
    for (unsigned i = 0; i < clients; ++i)
      std::printf("  client %u: %.2f MB/s%s%s\n", i,
                  results[i].seconds > 0 ? static_cast<double>(results[i].bytes) / mb / results[i].seconds : 0.0,
                  results[i].error.empty() ? "" : " — ", results[i].error.c_str());
  }
  return exit;
}
