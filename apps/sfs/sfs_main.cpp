// apps/sfs/sfs_main.cpp — hue-sfs, the SFS client: ls, stat, cat, get (exit codes: client.hpp).
#include "client.hpp"
#include "command_line.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <string>
#include <vector>

namespace {
using namespace hue::sfs;

const char* type_name(file_type t) {
  return t == file_type::regular ? "file" : t == file_type::directory ? "directory" : "other";
}

// Reads the file and checks it against the server's DIGEST (the SHA-256 of the whole file,
// computed by the server over the same bytes it serves): a mismatch means the data changed on the
// way or the file changed while it was read, and is exit code 7.
void fetch(client& c, const reply& f, const std::string& path, unsigned window,
           const std::function<void(std::span<const std::uint8_t>)>& sink) {
  if (f.attr.type != file_type::regular) throw client_failure(exit_code::remote, path + ": not a regular file");
  const reply d = c.digest(f.handle);
  std::uint64_t got = 0;
  const auto mine = c.read_file(f.handle, window, [&](std::span<const std::uint8_t> b) {
    got += b.size();
    sink(b);
  });
  if (got != d.digest_size || mine != d.sha256)
    throw client_failure(exit_code::checksum, path + ": SHA-256 mismatch (read " + std::to_string(got) +
                                                  " bytes, sha256 " + hex(mine) + "; server: " +
                                                  std::to_string(d.digest_size) + " bytes, " + hex(d.sha256) + ")");
}

}  // namespace

int main(int argc, char** argv) {
  std::string command, name_text, key_file, keygen, output;
  std::vector<std::string> paths;
  unsigned window = 16, timeout_ms = 30'000;
  CLI::App app{"The SFS client: lists, describes and reads files of a hue-sfsd server named\n"
               "host:port:HOSTID. The server must prove it holds the key the HOSTID names.",
               "hue-sfs"};
  hue_apps::init(app);
  app.add_option("command", command, "ls, stat, cat (to standard output) or get (to a file)")
      ->check(CLI::IsMember({"ls", "stat", "cat", "get"}));
  app.add_option("name", name_text, "the server's self-certifying name host:port:HOSTID");
  app.add_option("paths", paths, "paths under the export root (/ is the root)");
  app.add_option("--key", key_file, "this client's key file (default: a fresh key per run)")->type_name("FILE");
  app.add_option("--keygen", keygen, "write a client key pair to FILE, print its public key, exit")->type_name("FILE");
  app.add_option("-o,--output", output, "get: the local file (default: the last path component); "
                                        "with several paths, a directory")->type_name("FILE");
  hue_apps::add_number(app, "--window", window, "READs outstanding");
  hue_apps::add_number(app, "--timeout", timeout_ms, "milliseconds allowed per network wait");
  std::uint64_t rekey_frames = default_rekey_interval;
  hue_apps::add_number(app, "--rekey-frames", rekey_frames,
                       "frames per direction between two REKEYs: the server's (hue-sfsd --rekey-frames); "
                       "other values than 2^20 are for testing");
  app.footer("Exit codes: 0 ok, 1 local error, 2 usage, 3 cannot connect, 4 the server's key does not\n"
             "match HOSTID, 5 secure channel failed (refused, tampered, truncated, time-out), 6 the server\n"
             "answered an error (not found, refused, ...), 7 SHA-256 mismatch.");
  if (const auto code = hue_apps::parse(app, argc, argv)) return *code;
  try {
    if (!keygen.empty()) {
      const auto kp = generate_key_pair();
      write_key_file(keygen, kp);
      std::printf("%s\n", hex(kp.public_key).c_str());
      return 0;
    }
    if (command.empty() || name_text.empty() || paths.empty()) {
      std::fprintf(stderr, "hue-sfs: usage: hue-sfs ls|stat|cat|get NAME PATH... (see --help)\n");
      return 2;
    }
    sfs_name name;
    try {
      name = parse_name(name_text);
    } catch (const protocol_error& e) {
      std::fprintf(stderr, "hue-sfs: bad name '%s': %s\n", name_text.c_str(), e.what());
      return 2;
    }
    if (rekey_frames == 0 || rekey_frames >= max_nonce) {
      std::fprintf(stderr, "hue-sfs: --rekey-frames: must be in 1 .. 2^64 - 2\n");
      return 2;
    }
    client_options o;
    o.timeout = std::chrono::milliseconds(timeout_ms);
    o.transport.rekey_interval = rekey_frames;
    if (!key_file.empty()) o.keys = read_key_file(key_file);
    client c(name, o);
    for (const std::string& path : paths) {
      const reply f = resolve(c, path);
      if (command == "stat") {
        const std::time_t t = static_cast<std::time_t>(f.attr.mtime_ns / 1'000'000'000);
        char when[64];
        std::strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", std::gmtime(&t));
        std::printf("%s: %s, %llu bytes, mode %04o, modified %s, handle %s\n", path.c_str(),
                    type_name(f.attr.type), static_cast<unsigned long long>(f.attr.size), f.attr.mode, when,
                    hex(f.handle).c_str());
      } else if (command == "ls") {
        if (f.attr.type != file_type::directory) {
          std::printf("%s\n", path.c_str());
          continue;
        }
        for (const dir_entry& e : c.readdir(f.handle))
          std::printf("%s%s\n", e.name.c_str(), e.type == file_type::directory ? "/" : "");
      } else if (command == "cat") {
        // cat streams (files may be large); a mismatch is reported after the data, exit code 7.
        fetch(c, f, path, window, [](std::span<const std::uint8_t> b) {
          if (std::fwrite(b.data(), 1, b.size(), stdout) != b.size())
            throw client_failure(exit_code::local, "cannot write to standard output");
        });
        std::fflush(stdout);
      } else {  // get: to FILE.part, renamed into place only after the SHA-256 check passed
        std::filesystem::path dest = std::filesystem::path(path).filename();
        if (dest.empty()) dest = "sfs.out";
        if (!output.empty()) dest = paths.size() > 1 ? std::filesystem::path(output) / dest : std::filesystem::path(output);
        const std::string part = dest.string() + ".part";
        std::FILE* out = std::fopen(part.c_str(), "wb");
        if (!out) throw client_failure(exit_code::local, "cannot create " + part + ": " + std::strerror(errno));
        try {
          fetch(c, f, path, window, [&](std::span<const std::uint8_t> b) {
            if (std::fwrite(b.data(), 1, b.size(), out) != b.size())
              throw client_failure(exit_code::local, "cannot write " + part);
          });
          if (std::fclose(out) != 0) {
            out = nullptr;
            throw client_failure(exit_code::local, "cannot write " + part);
          }
          out = nullptr;
          std::filesystem::rename(part, dest);
        } catch (...) {
          if (out) std::fclose(out);
          std::remove(part.c_str());
          throw;
        }
        std::fprintf(stderr, "hue-sfs: %s -> %s (%llu bytes, SHA-256 verified)\n", path.c_str(),
                     dest.c_str(), static_cast<unsigned long long>(f.attr.size));
      }
    }
    c.close();
  } catch (const client_failure& e) {
    std::fprintf(stderr, "hue-sfs: %s\n", e.what());
    return static_cast<int>(e.code());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hue-sfs: %s\n", e.what());
    return 1;
  }
  return 0;
}
