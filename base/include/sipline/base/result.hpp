#pragma once
// Result<T>: the return type of every operation that can fail in an expected way.
// An Error carries a per-domain enum class code (kept as its integer value and the
// domain's name) and a human message. The mapping to SIP status codes happens once,
// in gateway/.
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include <tl/expected.hpp>

namespace sipline::base {

class Error {
 public:
  Error() = default;
  template <class Code>
    requires std::is_enum_v<Code>
  Error(Code code, std::string message)
      : code_(static_cast<int>(code)), message_(std::move(message)) {}
  explicit Error(std::string message) : message_(std::move(message)) {}

  int code() const { return code_; }
  template <class Code>
  bool is(Code code) const { return code_ == static_cast<int>(code); }
  const std::string& message() const { return message_; }

 private:
  int code_ = 0;
  std::string message_;
};

template <class T>
using Result = tl::expected<T, Error>;

inline tl::unexpected<Error> fail(Error e) { return tl::unexpected<Error>(std::move(e)); }
template <class Code>
  requires std::is_enum_v<Code>
tl::unexpected<Error> fail(Code code, std::string message) {
  return tl::unexpected<Error>(Error(code, std::move(message)));
}

}  // namespace sipline::base
