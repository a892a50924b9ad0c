// Error reporting for both backends (C++ host code only; the C ABI exposes it as lk_last_error):
// an op records its message and returns its code, so call sites read
// `return fail(LK_ERR_ARG, "...", ...)`.
#pragma once

#include <cstdarg>
#include <cstdio>
#include <string>

#include "loom_kernels.h"

namespace lk {

// per thread, so a message always belongs to the call that failed on that thread
inline std::string &last_error() {
  static thread_local std::string message;
  return message;
}

inline int fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
inline int fail(int code, const char *fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  last_error() = buf;
  return code;
}

}  // namespace lk

#define LK_REQUIRE(cond, ...)                                \
  do {                                                       \
    if (!(cond)) return ::lk::fail(LK_ERR_ARG, __VA_ARGS__); \
  } while (0)

#define LK_CHECK(expr)                  \
  do {                                  \
    int lk_rc_ = (expr);                \
    if (lk_rc_ != LK_OK) return lk_rc_; \
  } while (0)
