// Status and Result<T>: the one error path across library boundaries.
// Invariant violations (bugs) use SUANLI_CHECK instead; user input never does.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <utility>
#include <variant>

#include <fmt/format.h>

namespace suanli {

enum class StatusCode {
  kOk,
  kInvalidArgument,
  kNotFound,
  kParseError,
  kIoError,
  kFailedPrecondition,
  kInternal,
  kPermissionDenied,
  kResourceExhausted,
  kUnavailable
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return {}; }
  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // The input field the error is about ("gpus", "env"; "" = none), for
  // answers that name it (the API's error.field): set where the error is
  // made, never read back from the message.
  const std::string& field() const { return field_; }
  // A machine-readable kind within the code, for callers that act on one
  // particular error ("" = none; e.g. "in_transit", live/control.cc).
  const std::string& kind() const { return kind_; }
  Status WithField(std::string field) && {
    field_ = std::move(field);
    return std::move(*this);
  }
  Status WithKind(std::string kind) && {
    kind_ = std::move(kind);
    return std::move(*this);
  }
  // Prefixes context ("while loading X: ..."); field and kind stay.
  Status Wrap(const std::string& context) const {
    if (ok()) return *this;
    Status s(code_, context + ": " + message_);
    s.field_ = field_;
    s.kind_ = kind_;
    return s;
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
  std::string field_;
  std::string kind_;
};

// An invalid input field: "FIELD: what", with field() set.
template <typename... Args>
Status InvalidField(std::string field, fmt::format_string<Args...> f, Args&&... args) {
  std::string m = field + ": " + fmt::format(f, std::forward<Args>(args)...);
  return Status(StatusCode::kInvalidArgument, std::move(m)).WithField(std::move(field));
}

template <typename... Args>
Status InvalidArgument(fmt::format_string<Args...> f, Args&&... args) {
  return Status(StatusCode::kInvalidArgument, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
Status NotFound(fmt::format_string<Args...> f, Args&&... args) {
  return Status(StatusCode::kNotFound, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
Status ParseError(fmt::format_string<Args...> f, Args&&... args) {
  return Status(StatusCode::kParseError, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
Status IoError(fmt::format_string<Args...> f, Args&&... args) {
  return Status(StatusCode::kIoError, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
Status PermissionDenied(fmt::format_string<Args...> f, Args&&... args) {
  return Status(StatusCode::kPermissionDenied, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
Status ResourceExhausted(fmt::format_string<Args...> f, Args&&... args) {
  return Status(StatusCode::kResourceExhausted, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
Status Unavailable(fmt::format_string<Args...> f, Args&&... args) {
  return Status(StatusCode::kUnavailable, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
Status Internal(fmt::format_string<Args...> f, Args&&... args) {
  return Status(StatusCode::kInternal, fmt::format(f, std::forward<Args>(args)...));
}

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}        // NOLINT(google-explicit-constructor)
  Result(Status status) : v_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    if (std::get<Status>(v_).ok()) v_ = Status(StatusCode::kInternal, "Result built from OK status");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

[[noreturn]] inline void CheckFailed(const char* expr, const char* file, int line, const std::string& msg) {
  std::fprintf(stderr, "suanli: internal invariant violated: %s at %s:%d %s\n", expr, file, line, msg.c_str());
  std::abort();
}

}  // namespace suanli

// Invariant check for bugs only (never for user input).
#define SUANLI_CHECK(cond)                                             \
  do {                                                                 \
    if (!(cond)) ::suanli::CheckFailed(#cond, __FILE__, __LINE__, ""); \
  } while (0)
#define SUANLI_CHECK_MSG(cond, msg)                                       \
  do {                                                                    \
    if (!(cond)) ::suanli::CheckFailed(#cond, __FILE__, __LINE__, (msg)); \
  } while (0)

#define SUANLI_CONCAT_INNER(a, b) a##b
#define SUANLI_CONCAT(a, b) SUANLI_CONCAT_INNER(a, b)
#define SUANLI_RETURN_IF_ERROR(expr) \
  do {                               \
    ::suanli::Status _st = (expr);   \
    if (!_st.ok()) return _st;       \
  } while (0)
#define SUANLI_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) return tmp.status();                \
  lhs = std::move(tmp).value()
#define SUANLI_ASSIGN_OR_RETURN(lhs, expr) SUANLI_ASSIGN_OR_RETURN_IMPL(SUANLI_CONCAT(_res_, __LINE__), lhs, expr)
