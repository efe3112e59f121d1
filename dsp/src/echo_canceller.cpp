#include "sipline/dsp/echo_canceller.hpp"

#include "library_echo_cancellers.hpp"
#include "nlms_echo_canceller.hpp"

namespace sipline::dsp {

bool parse_echo_canceller_kind(std::string_view text, EchoCancellerKind& kind) {
  for (EchoCancellerKind k : {EchoCancellerKind::sipline, EchoCancellerKind::spandsp, EchoCancellerKind::speex}) {
    if (text == to_string(k)) {
      kind = k;
      return true;
    }
  }
  return false;
}

std::string_view to_string(EchoCancellerKind kind) {
  switch (kind) {
    case EchoCancellerKind::sipline: return "sipline";
    case EchoCancellerKind::spandsp: return "spandsp";
    case EchoCancellerKind::speex: return "speex";
  }
  return "unknown";
}

std::unique_ptr<EchoCanceller> make_echo_canceller(EchoCancellerKind kind, const EchoCancellerOptions& options) {
  switch (kind) {
    case EchoCancellerKind::sipline: return std::make_unique<detail::NlmsEchoCanceller>(options);
    case EchoCancellerKind::spandsp: return std::make_unique<detail::SpandspEchoCanceller>(options);
    case EchoCancellerKind::speex: return std::make_unique<detail::SpeexEchoCanceller>(options);
  }
  return nullptr;
}

}  // namespace sipline::dsp
