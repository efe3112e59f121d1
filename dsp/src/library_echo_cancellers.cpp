#include "library_echo_cancellers.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <mutex>

#if defined(__linux__) && defined(__GLIBC__)
#include <link.h>
#include <sys/mman.h>
#include <unistd.h>
#define SIPLINE_ELF_PLT_PATCH 1
#endif

namespace sipline::dsp::detail {

namespace {

int tail_samples(const EchoCancellerOptions& options) {
  return std::clamp(options.tail_ms, 8, 128) * base::kSampleRate / 1000;
}

#if defined(SIPLINE_ELF_PLT_PATCH)

extern "C" int sipline_discard_printf(const char* /*format*/, ...) { return 0; }
extern "C" int sipline_discard_printf_chk(int /*flag*/, const char* /*format*/, ...) { return 0; }

#if __ELF_NATIVE_CLASS == 64
std::size_t relocation_symbol(ElfW(Xword) info) { return ELF64_R_SYM(info); }
#else
std::size_t relocation_symbol(ElfW(Word) info) { return ELF32_R_SYM(info); }
#endif

struct PatchState {
  bool found = false;
  bool ok = true;
};

// Overwrites one relocated slot (a GOT entry) with `target`; a slot inside
// the RELRO segment is made writable for the moment of the store.
bool write_slot(ElfW(Addr) slot, ElfW(Addr) relro_begin, ElfW(Addr) relro_end, void* target) {
  const bool in_relro = slot >= relro_begin && slot < relro_end;
  const auto page = static_cast<ElfW(Addr)>(sysconf(_SC_PAGESIZE));
  auto* first = reinterpret_cast<void*>(slot & ~(page - 1));
  const std::size_t length = (slot + sizeof(void*)) - (slot & ~(page - 1));
  if (in_relro && mprotect(first, length, PROT_READ | PROT_WRITE) != 0) return false;
  __atomic_store_n(reinterpret_cast<void**>(slot), target, __ATOMIC_RELEASE);
  if (in_relro) mprotect(first, length, PROT_READ);
  return true;
}

int patch_spandsp(dl_phdr_info* info, std::size_t /*size*/, void* data) {
  auto& state = *static_cast<PatchState*>(data);
  if (info->dlpi_name == nullptr || std::strstr(info->dlpi_name, "libspandsp") == nullptr) return 0;
  state.found = true;
  const ElfW(Addr) base = info->dlpi_addr;
  const ElfW(Dyn)* dynamic = nullptr;
  ElfW(Addr) relro_begin = 0, relro_end = 0;
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type == PT_DYNAMIC) dynamic = reinterpret_cast<const ElfW(Dyn)*>(base + ph.p_vaddr);
    if (ph.p_type == PT_GNU_RELRO) {
      relro_begin = base + ph.p_vaddr;
      relro_end = relro_begin + ph.p_memsz;
    }
  }
  if (dynamic == nullptr) {
    state.ok = false;
    return 1;
  }
  // glibc has already relocated the d_ptr entries of a loaded object; a value
  // below the load address is still a link-time one.
  auto address = [base](ElfW(Addr) a) { return a < base ? a + base : a; };
  ElfW(Addr) symtab = 0, strtab = 0, jmprel = 0, rela = 0;
  std::size_t jmprel_size = 0, rela_size = 0;
  bool plt_is_rela = false;
  for (const ElfW(Dyn)* d = dynamic; d->d_tag != DT_NULL; ++d) {
    switch (d->d_tag) {
      case DT_SYMTAB: symtab = address(d->d_un.d_ptr); break;
      case DT_STRTAB: strtab = address(d->d_un.d_ptr); break;
      case DT_JMPREL: jmprel = address(d->d_un.d_ptr); break;
      case DT_PLTRELSZ: jmprel_size = d->d_un.d_val; break;
      case DT_PLTREL: plt_is_rela = d->d_un.d_val == DT_RELA; break;
      case DT_RELA: rela = address(d->d_un.d_ptr); break;
      case DT_RELASZ: rela_size = d->d_un.d_val; break;
      default: break;
    }
  }
  if (symtab == 0 || strtab == 0) {
    state.ok = false;
    return 1;
  }
  const auto* symbols = reinterpret_cast<const ElfW(Sym)*>(symtab);
  const auto* names = reinterpret_cast<const char*>(strtab);
  // PLT slots (lazy or bound), and GLOB_DAT slots of a -fno-plt build.
  auto scan = [&](ElfW(Addr) table, std::size_t bytes) {
    const auto* r = reinterpret_cast<const ElfW(Rela)*>(table);
    for (std::size_t i = 0; i < bytes / sizeof(ElfW(Rela)); ++i) {
      const std::size_t index = relocation_symbol(r[i].r_info);
      if (index == 0) continue;
      const char* name = names + symbols[index].st_name;
      void* target = nullptr;
      if (std::strcmp(name, "__printf_chk") == 0) target = reinterpret_cast<void*>(&sipline_discard_printf_chk);
      if (std::strcmp(name, "printf") == 0) target = reinterpret_cast<void*>(&sipline_discard_printf);
      if (target != nullptr && !write_slot(base + r[i].r_offset, relro_begin, relro_end, target)) state.ok = false;
    }
  };
  if (jmprel != 0 && plt_is_rela) scan(jmprel, jmprel_size);
  if (rela != 0) scan(rela, rela_size);
  return 1;
}

#endif

}  // namespace

bool silence_spandsp_printf() {
  static std::once_flag once;
  static bool result = false;
  std::call_once(once, [] {
#if defined(SIPLINE_ELF_PLT_PATCH)
    PatchState state;
    dl_iterate_phdr(&patch_spandsp, &state);
    result = state.found && state.ok;
#endif
  });
  return result;
}

// spandsp ------------------------------------------------------------------

namespace {

int spandsp_mode(const EchoCancellerOptions& options) {
  // No high-passes: TX_HPF would have to filter the audio sent to the line,
  // which this interface only reads, and RX_HPF (on what comes back) made no
  // difference in the comparison test.
  int mode = ECHO_CAN_USE_ADAPTION;
  if (options.nlp) {
    mode |= ECHO_CAN_USE_NLP;
    if (options.comfort_noise) mode |= ECHO_CAN_USE_CNG;
  }
  return mode;
}

}  // namespace

SpandspEchoCanceller::SpandspEchoCanceller(const EchoCancellerOptions& options)
    : mode_(spandsp_mode(options)) {
  silence_spandsp_printf();
  state_.reset(echo_can_init(tail_samples(options), mode_));
}

void SpandspEchoCanceller::process(base::ConstFrameSpan rx, base::FrameSpan tx) {
  if (!state_) return;
  // spandsp names the streams from the network's side: its tx is what goes
  // to the line (our rx), its rx what comes back (our tx).
  echo_can_state_t* s = state_.get();
  for (std::size_t n = 0; n < base::kFrameSamples; ++n) tx[n] = echo_can_update(s, rx[n], tx[n]);
}

void SpandspEchoCanceller::reset() {
  if (!state_) return;
  echo_can_flush(state_.get());
  echo_can_adaption_mode(state_.get(), held_ ? mode_ & ~ECHO_CAN_USE_ADAPTION : mode_);
}

void SpandspEchoCanceller::hold_adaptation(bool hold) {
  if (!state_ || hold == held_) return;
  held_ = hold;
  echo_can_adaption_mode(state_.get(), hold ? mode_ & ~ECHO_CAN_USE_ADAPTION : mode_);
}

// speexdsp -----------------------------------------------------------------

SpeexEchoCanceller::SpeexEchoCanceller(const EchoCancellerOptions& options)
    : echo_(speex_echo_state_init(static_cast<int>(base::kFrameSamples), tail_samples(options))) {
  spx_int32_t rate = base::kSampleRate;
  speex_echo_ctl(echo_.get(), SPEEX_ECHO_SET_SAMPLING_RATE, &rate);
  if (options.nlp) {
    preprocess_.reset(speex_preprocess_state_init(static_cast<int>(base::kFrameSamples), base::kSampleRate));
    // The preprocessor applies no gain at all, echo suppression included,
    // when its denoiser is off (preprocess.c: "If noise suppression is off,
    // don't apply the gain"). So the denoiser stays on with 0 dB of noise
    // suppression: only the residual echo is attenuated.
    spx_int32_t on = 1, off = 0, no_noise_suppression = 0;
    speex_preprocess_ctl(preprocess_.get(), SPEEX_PREPROCESS_SET_DENOISE, &on);
    speex_preprocess_ctl(preprocess_.get(), SPEEX_PREPROCESS_SET_NOISE_SUPPRESS, &no_noise_suppression);
    speex_preprocess_ctl(preprocess_.get(), SPEEX_PREPROCESS_SET_AGC, &off);
    // VAD stays off by default (setting it prints a warning to stderr).
    speex_preprocess_ctl(preprocess_.get(), SPEEX_PREPROCESS_SET_DEREVERB, &off);
    speex_preprocess_ctl(preprocess_.get(), SPEEX_PREPROCESS_SET_ECHO_STATE, echo_.get());
  }
}

void SpeexEchoCanceller::process(base::ConstFrameSpan rx, base::FrameSpan tx) {
  // speexdsp: rec is the microphone (what the line returns), play the
  // loudspeaker (what was sent to the line).
  speex_echo_cancellation(echo_.get(), tx.data(), rx.data(), out_.data());
  if (preprocess_) speex_preprocess_run(preprocess_.get(), out_.data());
  std::copy(out_.begin(), out_.end(), tx.begin());
}

void SpeexEchoCanceller::reset() {
  // The preprocessor has no reset call; its noise and residual echo
  // estimates carry over and follow the new call within a second.
  speex_echo_state_reset(echo_.get());
}

}  // namespace sipline::dsp::detail
