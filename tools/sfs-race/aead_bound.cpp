// tools/sfs-race/aead_bound.cpp — the ceiling of the SFS race: how many MB/s libsodium's
// ChaCha20-Poly1305 (IETF) seals on one core, and on all workers at once, for the frame size the
// server sends READ replies in. The race turns the per-core rate into the seal cost per GB
// (1000 / MB/s CPU seconds) and compares hue-sfsd's CPU s/GB with it (race.py's aims).
//
//   hue-aead-bound [--frame BYTES] [--workers N] [--reps R] [--min-time S] [benchmark flags]
//
// Prints Google Benchmark's table on standard output, then key=value lines the race reads:
//   aead_frame_bytes, aead_workers, aead_per_core_mb_s (median, 1 thread, per CPU second),
//   aead_workers_mb_s (median, N threads sealing at once, per wall second), aead_bound_mb_s
//   (per core x workers).
// MB is 10^6 bytes, as everywhere in the race.
//
// On Google Benchmark: it times the loop, repeats it and runs it on N threads at once; what it
// does not do is the division by workers and the medians we want as key=value lines, so a small
// reporter collects the runs.
#include <command_line.hpp>  // apps/common: CLI11, strict numbers

#include <benchmark/benchmark.h>
#include <sodium.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <thread>
#include <vector>

namespace {

struct options {
  std::uint32_t frame = 65536;  // the transport's maximum plaintext per frame (SFS-INTERFACE: 64 KiB)
  std::uint32_t workers = 0;    // 0: the number of online cores
  std::uint32_t reps = 3;
  double min_time = 0.5;
};
options opt;

// One frame sealed as the transport does it: AD is the 32-bit big-endian length that precedes the
// ciphertext on the wire, the nonce a per-direction counter (little-endian in the last 8 bytes, as
// Noise's ChaChaPoly). Each thread has its own key, counter and buffers: no sharing to measure.
void seal_frames(benchmark::State& state) {
  const std::size_t frame = opt.frame;
  std::vector<unsigned char> plain(frame), sealed(frame + crypto_aead_chacha20poly1305_ietf_ABYTES);
  std::array<unsigned char, crypto_aead_chacha20poly1305_ietf_KEYBYTES> key{};
  crypto_aead_chacha20poly1305_ietf_keygen(key.data());
  randombytes_buf(plain.data(), plain.size());
  const std::uint32_t wire_len = static_cast<std::uint32_t>(sealed.size());
  const unsigned char ad[4] = {static_cast<unsigned char>(wire_len >> 24),
                               static_cast<unsigned char>(wire_len >> 16),
                               static_cast<unsigned char>(wire_len >> 8),
                               static_cast<unsigned char>(wire_len)};
  std::array<unsigned char, crypto_aead_chacha20poly1305_ietf_NPUBBYTES> nonce{};
  std::uint64_t counter = 0;
  for (auto _ : state) {
    std::memcpy(nonce.data() + 4, &counter, sizeof counter);  // x86 and arm64: little-endian
    ++counter;
    unsigned long long out_len = 0;
    crypto_aead_chacha20poly1305_ietf_encrypt(sealed.data(), &out_len, plain.data(), frame, ad,
                                              sizeof ad, nullptr, nonce.data(), key.data());
    benchmark::DoNotOptimize(sealed.data());
    benchmark::ClobberMemory();
  }
  // The last frame must open again: a broken call would otherwise be measured as a fast one.
  std::vector<unsigned char> back(frame);
  unsigned long long back_len = 0;
  --counter;
  std::memcpy(nonce.data() + 4, &counter, sizeof counter);
  if (crypto_aead_chacha20poly1305_ietf_decrypt(back.data(), &back_len, nullptr, sealed.data(),
                                                sealed.size(), ad, sizeof ad, nonce.data(),
                                                key.data()) != 0 ||
      back_len != frame || back != plain)
    state.SkipWithError("a sealed frame did not open to its plaintext");
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(frame));
}

// Keeps the console table and collects bytes/s of every repetition, by thread count.
class collector : public benchmark::ConsoleReporter {
 public:
  collector() : ConsoleReporter(OO_Tabular) {}  // no colour escapes: race.sh keeps the output
  std::map<int, std::vector<double>> bytes_per_s;
  bool failed = false;
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& r : runs) {
      if (r.error_occurred) failed = true;
      if (r.run_type != Run::RT_Iteration || r.error_occurred) continue;
      const auto it = r.counters.find("bytes_per_second");
      if (it != r.counters.end()) bytes_per_s[static_cast<int>(r.threads)].push_back(it->second.value);
    }
    ConsoleReporter::ReportRuns(runs);
  }
};

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"libsodium ChaCha20-Poly1305-IETF sealing MB/s per core and on all workers: the "
               "bound of the SFS race. Unknown options go to Google Benchmark.",
               "hue-aead-bound"};
  hue_apps::init(app);
  app.allow_extras();
  hue_apps::add_number(app, "--frame", opt.frame, "plaintext bytes per frame")
      ->check(CLI::Range(1u, 16u << 20));
  hue_apps::add_number(app, "--workers", opt.workers, "server workers (0: online cores)");
  hue_apps::add_number(app, "--reps", opt.reps, "repetitions of each row (median taken)")
      ->check(CLI::Range(1u, 100u));
  app.add_option("--min-time", opt.min_time, "seconds per repetition")
      ->check(CLI::Range(0.01, 60.0))->capture_default_str();
  if (const auto code = hue_apps::parse(app, argc, argv)) return *code;
  if (sodium_init() < 0) {
    std::fprintf(stderr, "hue-aead-bound: sodium_init failed\n");
    return 1;
  }
  if (opt.workers == 0) opt.workers = std::max(1u, std::thread::hardware_concurrency());

  std::vector<int> thread_counts{1};
  if (opt.workers > 1) thread_counts.push_back(static_cast<int>(opt.workers));
  // One thread: bytes per CPU second (Google Benchmark's default clock), what one core can seal
  // whatever else the shared machine runs. N threads: bytes per wall second, what the workers
  // sealed together while sharing the machine, as the server does.
  for (int t : thread_counts) {
    auto* b = benchmark::RegisterBenchmark(("seal/frame:" + std::to_string(opt.frame)).c_str(),
                                           seal_frames);
    b->Threads(t)->MinTime(opt.min_time)->Repetitions(static_cast<int>(opt.reps));
    if (t > 1) b->UseRealTime();
  }

  std::vector<std::string> rest = app.remaining();  // kept alive: gb points into it
  std::vector<char*> gb{argv[0]};
  for (std::string& a : rest) gb.push_back(a.data());
  int gb_argc = static_cast<int>(gb.size());
  benchmark::Initialize(&gb_argc, gb.data());
  if (benchmark::ReportUnrecognizedArguments(gb_argc, gb.data())) return 2;
  collector reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  if (reporter.failed || reporter.bytes_per_s[1].empty()) {
    std::fprintf(stderr, "hue-aead-bound: the measurement failed\n");
    return 1;
  }
  const double per_core = median(reporter.bytes_per_s[1]) / 1e6;
  const double all = opt.workers > 1 ? median(reporter.bytes_per_s[static_cast<int>(opt.workers)]) / 1e6
                                     : per_core;
  std::printf("aead_frame_bytes=%u\naead_workers=%u\naead_per_core_mb_s=%.1f\n"
              "aead_workers_mb_s=%.1f\naead_bound_mb_s=%.1f\n",
              opt.frame, opt.workers, per_core, all, per_core * opt.workers);
  return 0;
}
