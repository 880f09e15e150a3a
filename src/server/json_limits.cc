#include "server/json_limits.h"

#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

namespace suanli::server {
namespace {

using nlohmann::json;

// Builds the document as nlohmann's own DOM parser does, and stops at the
// first limit passed or key repeated (returning false stops the parser).
class LimitedDom {
 public:
  LimitedDom(const JsonLimits& limits, ApiError* err) : limits_(limits), err_(err) {}

  bool null() { return Value(nullptr); }
  bool boolean(bool v) { return Value(v); }
  bool number_integer(json::number_integer_t v) { return Value(v); }
  bool number_unsigned(json::number_unsigned_t v) { return Value(v); }
  bool number_float(json::number_float_t v, const json::string_t&) { return Value(v); }
  bool string(json::string_t& v) { return Value(std::move(v)); }
  bool binary(json::binary_t& v) { return Value(json::binary(std::move(v))); }

  bool start_object(std::size_t) {
    // The object's path: the key that opened it, under the enclosing object's.
    std::string path;
    if (!paths_.empty()) path = paths_.back().empty() ? last_key_ : paths_.back() + "." + last_key_;
    if (!Open(json::value_t::object)) return false;
    paths_.push_back(std::move(path));
    return true;
  }
  bool end_object() {
    stack_.pop_back();
    paths_.pop_back();
    return true;
  }
  bool start_array(std::size_t) { return Open(json::value_t::array); }
  bool end_array() {
    stack_.pop_back();
    return true;
  }

  bool key(json::string_t& k) {
    json& obj = *stack_.back();
    last_key_ = k;
    // std::map: found in O(log n), so n keys cost O(n log n).
    if (obj.contains(k)) {
      const std::string& path = paths_.back();
      return Stop(ShownName(path.empty() ? k : path + "." + k), "given more than once");
    }
    if (static_cast<int64_t>(obj.size()) >= limits_.max_keys) {
      return Stop("body", fmt::format("an object with more than {} keys", limits_.max_keys));
    }
    slot_ = &obj[k];
    return true;
  }

  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& ex) {
    // The library's message names the byte position and what was expected.
    return Stop("body", fmt::format("malformed JSON: {}", ex.what()));
  }

  json& root() { return root_; }
  bool failed() const { return failed_; }

 private:
  bool Stop(const std::string& field, const std::string& what) {
    if (!failed_) *err_ = FieldError(field, what);
    failed_ = true;
    return false;
  }

  bool Count() {
    if (++values_ > limits_.max_values) {
      return Stop("body", fmt::format("more than {} values", limits_.max_values));
    }
    return true;
  }

  // Places a value: the root, the next item of the open array, or the value
  // of the key just read.
  template <class V>
  json* Place(V&& v) {
    if (stack_.empty()) {
      root_ = json(std::forward<V>(v));
      return &root_;
    }
    json& top = *stack_.back();
    if (top.is_array()) {
      top.emplace_back(std::forward<V>(v));
      return &top.back();
    }
    *slot_ = json(std::forward<V>(v));
    return slot_;
  }

  template <class V>
  bool Value(V&& v) {
    if (!Count()) return false;
    Place(std::forward<V>(v));
    return true;
  }

  bool Open(json::value_t type) {
    if (!Count()) return false;
    if (static_cast<int>(stack_.size()) >= limits_.max_depth) {
      return Stop("body", fmt::format("nested deeper than {} levels", limits_.max_depth));
    }
    stack_.push_back(Place(type));
    return true;
  }

  const JsonLimits& limits_;
  ApiError* err_;
  json root_;
  std::vector<json*> stack_;        // open arrays and objects
  std::vector<std::string> paths_;  // of the open objects
  std::string last_key_;
  json* slot_ = nullptr;  // where the value of the key just read goes
  int64_t values_ = 0;
  bool failed_ = false;
};

}  // namespace

std::string ShownName(std::string_view name) {
  if (name.empty()) return "\"\"";
  std::string out;
  for (unsigned char c : name.substr(0, 64)) {
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("\\x{:02x}", c);
    }
  }
  if (name.size() > 64) out += "...";
  return out;
}

bool ParseJsonObject(std::string_view body, json* out, ApiError* err, const JsonLimits& limits) {
  LimitedDom dom(limits, err);
  bool ok = false;
  try {
    ok = json::sax_parse(body.begin(), body.end(), &dom);
  } catch (const std::exception& e) {
    if (!dom.failed()) *err = FieldError("body", fmt::format("malformed JSON: {}", e.what()));
    return false;
  }
  if (!ok || dom.failed()) {
    if (!dom.failed()) *err = FieldError("body", "malformed JSON");
    return false;
  }
  if (!dom.root().is_object()) {
    *err = FieldError("body", fmt::format("expected a JSON object, got {}", JsonTypeName(dom.root())));
    return false;
  }
  *out = std::move(dom.root());
  return true;
}

const char* JsonTypeName(const json& v) {
  switch (v.type()) {
    case json::value_t::null: return "null";
    case json::value_t::object: return "an object";
    case json::value_t::array: return "an array";
    case json::value_t::string: return "a string";
    case json::value_t::boolean: return "a boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned: return "an integer";
    case json::value_t::number_float: return "a number with a fraction or exponent";
    default: return "an unsupported value";
  }
}

}  // namespace suanli::server
