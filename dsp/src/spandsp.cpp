#include "spandsp.hpp"

namespace sipline::dsp::detail {
namespace {

extern "C" void drop_span_message(int /*level*/, const char* /*text*/) {}

}  // namespace

void quiet_spandsp_log(logging_state_t* log) {
  if (log == nullptr) return;
  span_log_set_level(log, SPAN_LOG_NONE);
  span_log_set_message_handler(log, &drop_span_message);
}

}  // namespace sipline::dsp::detail
