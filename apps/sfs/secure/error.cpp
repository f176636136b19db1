// apps/sfs/secure/error.cpp — names of the refusal kinds (for logs and statistics).
#include "error.hpp"

namespace hue::sfs {

const char* to_string(error_kind kind) noexcept {
  switch (kind) {
    case error_kind::malformed: return "malformed";
    case error_kind::too_large: return "too_large";
    case error_kind::authentication: return "authentication";
    case error_kind::low_order: return "low_order";
    case error_kind::wrong_host: return "wrong_host";
    case error_kind::truncated: return "truncated";
    case error_kind::after_close: return "after_close";
    case error_kind::state: return "state";
  }
  return "unknown";
}

}  // namespace hue::sfs
