// Replay driver for the libFuzzer entry points when no libFuzzer is at hand
// (the default g++ build). It
//  1. runs every file of a seed corpus folder (sorted by name), then
//  2. runs deterministic pseudo-random mutations of those seeds (bit flips,
//     interesting values, truncation, insertion, deletion, duplication,
//     splicing of two seeds), a fixed number of times or until a time budget
//     runs out, whichever comes first.
// The random generator is seeded with a fixed value, so a failure reproduces
// run after run (with the same corpus). When an input crashes (abort, signal,
// or a sanitizer report in the ASan build) the input is printed as a hex dump
// and written to fuzz-crash-<target>.bin in the working directory; add it to
// the corpus once the bug is fixed.
//
// Usage: fuzz_<target> CORPUS_DIR [--runs N] [--seconds S] [--seed X] [FILE...]
// Extra FILE arguments are run alone (no corpus, no mutations): the way to
// replay one crashing input.
#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include <unistd.h>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);
// Present when linked with a sanitizer runtime (ASan/UBSan): called before it exits on a report.
extern "C" void __sanitizer_set_death_callback(void (*callback)(void)) __attribute__((weak));

// In sanitizer builds, make UBSan reports abort (so the crashing input is
// dumped) and print a stack. Unused when no sanitizer runtime is linked.
extern "C" const char* __ubsan_default_options() { return "print_stacktrace=1:halt_on_error=1:abort_on_error=1"; }

namespace {

using Bytes = std::vector<std::uint8_t>;

// The input being run, for the crash reporter.
const Bytes* g_current = nullptr;
const char* g_name = "fuzz";
bool g_reported = false;

void write_all(int fd, const char* s, std::size_t n) {
  while (n > 0) {
    const ssize_t w = ::write(fd, s, n);
    if (w <= 0) return;
    s += w;
    n -= static_cast<std::size_t>(w);
  }
}

// Signal-safe enough: write(2) and open(2) only, no allocation.
void report_current() {
  if (g_reported || g_current == nullptr) return;
  g_reported = true;
  static const char kHex[] = "0123456789abcdef";
  const Bytes& in = *g_current;
  char line[80];
  write_all(2, "\n== crashing input (hex) ==\n", 28);
  for (std::size_t off = 0; off < in.size(); off += 16) {
    std::size_t n = 0;
    for (int shift = 28; shift >= 0; shift -= 4) line[n++] = kHex[(off >> shift) & 0xf];
    line[n++] = ':';
    for (std::size_t i = off; i < off + 16 && i < in.size(); ++i) {
      line[n++] = ' ';
      line[n++] = kHex[in[i] >> 4];
      line[n++] = kHex[in[i] & 0xf];
    }
    line[n++] = '\n';
    write_all(2, line, n);
  }
  char path[256];
  std::snprintf(path, sizeof path, "fuzz-crash-%s.bin", g_name);
  std::FILE* f = std::fopen(path, "wb");
  if (f != nullptr) {
    if (!in.empty()) std::fwrite(in.data(), 1, in.size(), f);
    std::fclose(f);
    write_all(2, "== written to ", 14);
    write_all(2, path, std::strlen(path));
    write_all(2, " ==\n", 4);
  }
}

void on_signal(int sig) {
  report_current();
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

void run(const Bytes& input) {
  g_current = &input;
  // A copy of exactly the input's size, so that reads past the end are
  // heap-buffer-overflows under ASan (the vector may have spare capacity).
  auto* copy = static_cast<std::uint8_t*>(std::malloc(input.empty() ? 1 : input.size()));
  if (!input.empty()) std::memcpy(copy, input.data(), input.size());
  LLVMFuzzerTestOneInput(copy, input.size());
  std::free(copy);
  g_current = nullptr;
}

Bytes read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

class Mutator {
 public:
  explicit Mutator(std::uint64_t seed) : rng_(seed) {}

  std::size_t below(std::size_t n) { return n == 0 ? 0 : static_cast<std::size_t>(rng_() % n); }
  std::uint8_t byte() { return static_cast<std::uint8_t>(rng_()); }

  Bytes mutate(const std::vector<Bytes>& seeds) {
    Bytes out = seeds[below(seeds.size())];
    const std::size_t steps = 1 + below(8);
    for (std::size_t s = 0; s < steps; ++s) step(out, seeds);
    if (out.size() > kMaxSize) out.resize(kMaxSize);
    return out;
  }

 private:
  static constexpr std::size_t kMaxSize = 8192;

  void step(Bytes& b, const std::vector<Bytes>& seeds) {
    static constexpr std::uint8_t kInteresting[] = {0x00, 0x01, 0x02, 0x0f, 0x10, 0x1f, 0x20, 0x3f, 0x40,
                                                    0x7f, 0x80, 0x81, 0xc0, 0xfe, 0xff, '\n', ' ', '0',
                                                    '9', '[', ']', '-', '=', '"', '.', ':', '$'};
    switch (below(10)) {
      case 0:  // flip one bit
        if (!b.empty()) b[below(b.size())] ^= static_cast<std::uint8_t>(1u << below(8));
        break;
      case 1:  // random byte
        if (!b.empty()) b[below(b.size())] = byte();
        break;
      case 2:  // interesting byte
        if (!b.empty()) b[below(b.size())] = kInteresting[below(sizeof kInteresting)];
        break;
      case 3: {  // interesting 16/32-bit big-endian value (lengths, counts)
        static constexpr std::uint32_t kWords[] = {0, 1, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff,
                                                   0x10000, 0x7fffffff, 0x80000000, 0xffffffff};
        const std::uint32_t v = kWords[below(sizeof kWords / sizeof kWords[0])];
        const std::size_t width = below(2) == 0 ? 2 : 4;
        if (b.size() >= width) {
          const std::size_t at = below(b.size() - width + 1);
          for (std::size_t i = 0; i < width; ++i) b[at + i] = static_cast<std::uint8_t>(v >> (8 * (width - 1 - i)));
        }
        break;
      }
      case 4:  // truncate
        b.resize(below(b.size() + 1));
        break;
      case 5: {  // insert random bytes
        const std::size_t at = below(b.size() + 1);
        const std::size_t n = 1 + below(16);
        Bytes ins(n);
        for (auto& x : ins) x = byte();
        b.insert(b.begin() + static_cast<std::ptrdiff_t>(at), ins.begin(), ins.end());
        break;
      }
      case 6: {  // delete a range
        if (b.empty()) break;
        const std::size_t at = below(b.size());
        const std::size_t n = 1 + below(std::min<std::size_t>(b.size() - at, 32));
        b.erase(b.begin() + static_cast<std::ptrdiff_t>(at), b.begin() + static_cast<std::ptrdiff_t>(at + n));
        break;
      }
      case 7: {  // duplicate a range
        if (b.empty()) break;
        const std::size_t at = below(b.size());
        const std::size_t n = 1 + below(std::min<std::size_t>(b.size() - at, 64));
        const Bytes chunk(b.begin() + static_cast<std::ptrdiff_t>(at), b.begin() + static_cast<std::ptrdiff_t>(at + n));
        b.insert(b.begin() + static_cast<std::ptrdiff_t>(below(b.size() + 1)), chunk.begin(), chunk.end());
        break;
      }
      case 8: {  // splice: our head + another seed's tail
        const Bytes& other = seeds[below(seeds.size())];
        b.resize(below(b.size() + 1));
        const std::size_t from = below(other.size() + 1);
        b.insert(b.end(), other.begin() + static_cast<std::ptrdiff_t>(from), other.end());
        break;
      }
      default: {  // copy a range of another seed over ours
        const Bytes& other = seeds[below(seeds.size())];
        if (other.empty() || b.empty()) break;
        const std::size_t from = below(other.size());
        const std::size_t n = 1 + below(std::min<std::size_t>(other.size() - from, 32));
        const std::size_t at = below(b.size());
        if (at + n > b.size()) b.resize(at + n);
        std::copy(other.begin() + static_cast<std::ptrdiff_t>(from),
                  other.begin() + static_cast<std::ptrdiff_t>(from + n), b.begin() + static_cast<std::ptrdiff_t>(at));
        break;
      }
    }
  }

  std::mt19937_64 rng_;  // fully specified by the standard: same sequence everywhere
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR [--runs N] [--seconds S] [--seed X] [FILE...]\n", argv[0]);
    return 2;
  }
  std::string name = std::filesystem::path(argv[0]).filename().string();
  static std::string name_storage = name;
  g_name = name_storage.c_str();

  std::filesystem::path corpus_dir = argv[1];
  long runs = 20000;
  double seconds = 10.0;
  std::uint64_t seed = 0x5195'11AE'F022ULL;
  std::vector<std::filesystem::path> files;
  for (int i = 2; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--runs" && i + 1 < argc) {
      runs = std::atol(argv[++i]);
    } else if (arg == "--seconds" && i + 1 < argc) {
      seconds = std::atof(argv[++i]);
    } else if (arg == "--seed" && i + 1 < argc) {
      seed = std::strtoull(argv[++i], nullptr, 0);
    } else {
      files.emplace_back(arg);
    }
  }

  if (__sanitizer_set_death_callback != nullptr) __sanitizer_set_death_callback(report_current);
  for (int sig : {SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL}) std::signal(sig, on_signal);

  if (!files.empty() || !std::filesystem::is_directory(corpus_dir)) {
    // Replay mode: every argument (the first too) is one input file.
    files.insert(files.begin(), corpus_dir);
    for (const auto& f : files) {
      const Bytes in = read_file(f);
      run(in);
      std::printf("%s: ran %s (%zu bytes)\n", g_name, f.c_str(), in.size());
    }
    return 0;
  }

  std::vector<std::filesystem::path> paths;
  for (const auto& entry : std::filesystem::directory_iterator(corpus_dir)) {
    if (entry.is_regular_file()) paths.push_back(entry.path());
  }
  std::sort(paths.begin(), paths.end());
  if (paths.empty()) {
    std::fprintf(stderr, "%s: no seeds in %s\n", g_name, corpus_dir.c_str());
    return 1;
  }
  std::vector<Bytes> seeds;
  for (const auto& p : paths) {
    seeds.push_back(read_file(p));
    run(seeds.back());
  }

  Mutator mutator(seed);
  const auto start = std::chrono::steady_clock::now();
  long done = 0;
  for (; done < runs; ++done) {
    if ((done & 255) == 0 &&
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() > seconds) {
      break;
    }
    const Bytes in = mutator.mutate(seeds);
    run(in);
  }
  std::printf("%s: %zu seeds, %ld mutated inputs, seed 0x%llx, no failure\n", g_name, seeds.size(), done,
              static_cast<unsigned long long>(seed));
  return 0;
}
