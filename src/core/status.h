// Status and Result<T>: errors on the data path are values, not exceptions.
// A Status carries a code that maps onto an HTTP status at the API edge and a
// message a user can act on. Thread-compatible value types.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace bysans {

enum class Code {
  kOk,
  kInvalidArgument,     // 400: the caller sent something wrong
  kUnauthenticated,     // 401: no or bad credentials
  kPermissionDenied,    // 403: authenticated, but not allowed
  kNotFound,            // 404
  kAlreadyExists,       // 409
  kFailedPrecondition,  // 409: state does not allow it
  kTooLarge,            // 413
  kUnsupportedMedia,    // 415
  kRateLimited,         // 429
  kUnavailable,         // 503: try again (back-pressure, shutting down)
  kInternal,            // 500: a bug or an environment failure
};

// Machine-readable name of a code, as used in JSON errors ("not_found").
const char* CodeName(Code code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return {}; }
  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

inline Status InvalidArgument(std::string m) { return {Code::kInvalidArgument, std::move(m)}; }
inline Status NotFound(std::string m) { return {Code::kNotFound, std::move(m)}; }
inline Status PermissionDenied(std::string m) { return {Code::kPermissionDenied, std::move(m)}; }
inline Status Unauthenticated(std::string m) { return {Code::kUnauthenticated, std::move(m)}; }
inline Status AlreadyExists(std::string m) { return {Code::kAlreadyExists, std::move(m)}; }
inline Status FailedPrecondition(std::string m) {
  return {Code::kFailedPrecondition, std::move(m)};
}
inline Status Internal(std::string m) { return {Code::kInternal, std::move(m)}; }
inline Status Unavailable(std::string m) { return {Code::kUnavailable, std::move(m)}; }

// Result<T> holds either a value or a non-ok Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}         // NOLINT(google-explicit-constructor)
  Result(Status status) : v_(std::move(status)) {}  // NOLINT(google-explicit-constructor)

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

}  // namespace bysans

// Propagate a non-ok Status from an expression returning Status.
#define BYSANS_RETURN_IF_ERROR(expr) \
  do {                               \
    ::bysans::Status _st = (expr);   \
    if (!_st.ok()) return _st;       \
  } while (0)

#define BYSANS_CONCAT_INNER(a, b) a##b
#define BYSANS_CONCAT(a, b) BYSANS_CONCAT_INNER(a, b)
// BYSANS_ASSIGN_OR_RETURN(auto x, ExprReturningResult());
// `lhs` may be a declaration (`auto x`), so it cannot be parenthesised.
// NOLINTBEGIN(bugprone-macro-parentheses)
#define BYSANS_ASSIGN_OR_RETURN(lhs, rexpr)                                                 \
  auto BYSANS_CONCAT(_res_, __LINE__) = (rexpr);                                            \
  if (!BYSANS_CONCAT(_res_, __LINE__).ok()) return BYSANS_CONCAT(_res_, __LINE__).status(); \
  lhs = std::move(BYSANS_CONCAT(_res_, __LINE__)).value()
// NOLINTEND(bugprone-macro-parentheses)
