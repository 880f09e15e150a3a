// A record as JSON through its table of fields (live/record_schema.h): the
// strict decode (only the table's keys, each of its type, integers in their
// range) and the encode (every field, less those flagged kOmitDefault that
// hold their default). The limits of lengths and counts are the record's
// field check (live::schema::CheckFields), which the caller runs after a
// decode.
#pragma once

#include <cmath>
#include <limits>
#include <string>
#include <string_view>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "live/record_schema.h"
#include "server/json_limits.h"

namespace suanli::server {

// `v` as an integer of field `f`'s range; false with *err set otherwise.
bool JsonToInt(const nlohmann::json& v, std::string_view field, const live::schema::Limits& l, int64_t* out,
               Status* err);
bool JsonToString(const nlohmann::json& v, std::string_view field, std::string* out, Status* err);
// `v` as accelerators: a number with at most three decimals, in the field's
// range and whole above 1 (live::schema::CheckGpus).
bool JsonToGpus(const nlohmann::json& v, std::string_view field, const live::schema::Limits& l, live::Gpus* out,
                Status* err);
// Whole devices as an integer, a share as a number (0.25).
nlohmann::json GpusJson(live::Gpus g);

// Decodes the value of one key into `r`; false with *err naming the field.
template <class R>
bool DecodeField(const live::schema::Field<R>& f, const nlohmann::json& v, R* r, Status* err) {
  return std::visit(
      [&](auto m) -> bool {
        using T = std::remove_cvref_t<decltype(r->*m)>;
        if constexpr (std::is_same_v<T, std::string>) {
          return JsonToString(v, f.json, &(r->*m), err);
        } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
          if (!v.is_array()) {
            *err = InvalidField(std::string(f.json), "expected an array of strings, got {}", JsonTypeName(v));
            return false;
          }
          if (v.size() > static_cast<size_t>(f.limits.max)) {
            *err = InvalidField(std::string(f.json), "at most {} items, got {}", f.limits.max, v.size());
            return false;
          }
          T out;
          out.reserve(v.size());
          for (size_t i = 0; i < v.size(); ++i) {
            out.emplace_back();
            if (!JsonToString(v[i], fmt::format("{}[{}]", f.json, i), &out.back(), err)) return false;
          }
          r->*m = std::move(out);
          return true;
        } else if constexpr (std::is_same_v<T, std::map<std::string, std::string>>) {
          if (!v.is_object()) {
            *err = InvalidField(std::string(f.json), "expected an object of strings, got {}", JsonTypeName(v));
            return false;
          }
          if (v.size() > static_cast<size_t>(f.limits.max)) {
            *err = InvalidField(std::string(f.json), "at most {} entries, got {}", f.limits.max, v.size());
            return false;
          }
          T out;
          for (auto e = v.begin(); e != v.end(); ++e) {
            if (!JsonToString(e.value(), fmt::format("{}.{}", f.json, e.key()), &out[e.key()], err)) return false;
          }
          r->*m = std::move(out);
          return true;
        } else if constexpr (std::is_same_v<T, bool>) {
          if (!v.is_boolean()) {
            *err = InvalidField(std::string(f.json), "expected true or false, got {}", JsonTypeName(v));
            return false;
          }
          r->*m = v.get<bool>();
          return true;
        } else if constexpr (std::is_same_v<T, std::vector<int>>) {
          if (!v.is_array()) {
            *err = InvalidField(std::string(f.json), "expected an array of integers, got {}", JsonTypeName(v));
            return false;
          }
          T out;
          for (const auto& e : v) {
            if (!e.is_number_integer() || e.get<int64_t>() < std::numeric_limits<int>::min() ||
                e.get<int64_t>() > std::numeric_limits<int>::max()) {
              *err = InvalidField(std::string(f.json), "expected an array of integers");
              return false;
            }
            out.push_back(static_cast<int>(e.get<int64_t>()));
          }
          r->*m = std::move(out);
          return true;
        } else if constexpr (std::is_same_v<T, double>) {
          if (!v.is_number()) {
            *err = InvalidField(std::string(f.json), "expected a number, got {}", JsonTypeName(v));
            return false;
          }
          r->*m = v.get<double>();
          return true;
        } else if constexpr (std::is_same_v<T, live::Gpus>) {
          return JsonToGpus(v, f.json, f.limits, &(r->*m), err);
        } else {
          int64_t n = 0;
          if (!JsonToInt(v, f.json, f.limits, &n, err)) return false;
          r->*m = static_cast<T>(n);
          return true;
        }
      },
      f.member);
}

// A JSON object into `out`: every key one of the table's, every kRequired
// field given; the rest keep `out`'s values. `kind` names the record in the
// error for an unknown key ("a job spec").
template <class R>
bool DecodeRecord(std::span<const live::schema::Field<R>> fields, std::string_view kind, const nlohmann::json& j,
                  R* out, Status* err) {
  if (!j.is_object()) {
    *err = InvalidField("body", "expected a JSON object, got {}", JsonTypeName(j));
    return false;
  }
  for (auto it = j.begin(); it != j.end(); ++it) {
    const live::schema::Field<R>* f = nullptr;
    for (const auto& g : fields) f = g.json == it.key() ? &g : f;
    if (!f) {
      std::string names;
      for (const auto& g : fields) names += fmt::format("{}{}", names.empty() ? "" : ", ", g.json);
      *err = InvalidField(ShownName(it.key()), "unknown key ({} has: {})", kind, names);
      return false;
    }
    if (!DecodeField(*f, it.value(), out, err)) return false;
  }
  for (const auto& f : fields) {
    if (f.has(live::schema::kRequired) && !j.contains(std::string(f.json))) {
      *err = InvalidField(std::string(f.json), "required ({})", f.description);
      return false;
    }
  }
  return true;
}

// `omit_defaults` false: every field, kOmitDefault or not.
template <class R>
nlohmann::json EncodeRecord(std::span<const live::schema::Field<R>> fields, const R& r, bool omit_defaults = true) {
  static const R defaults{};
  nlohmann::json j = nlohmann::json::object();
  for (const auto& f : fields) {
    std::visit(
        [&](auto m) {
          using T = std::remove_cvref_t<decltype(r.*m)>;
          if (omit_defaults && f.has(live::schema::kOmitDefault) && r.*m == defaults.*m) return;
          if constexpr (std::is_same_v<T, WallMs>) {
            j[std::string(f.json)] = (r.*m).ms();
          } else if constexpr (std::is_same_v<T, live::Gpus>) {
            j[std::string(f.json)] = GpusJson(r.*m);
          } else if constexpr (std::is_same_v<T, double>) {
            // JSON has no NaN or infinity: 0 in their place.
            j[std::string(f.json)] = std::isfinite(r.*m) ? nlohmann::json(r.*m) : nlohmann::json(0);
          } else {
            j[std::string(f.json)] = r.*m;
          }
        },
        f.member);
  }
  return j;
}

}  // namespace suanli::server
