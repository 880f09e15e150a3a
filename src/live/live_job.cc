#include "live/live_job.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "base/strings.h"

namespace suanli::live {

namespace {
constexpr std::array<std::string_view, 5> kStateNames = {"pending", "running", "succeeded", "failed", "cancelled"};
}  // namespace

bool OnNode(std::string_view nodes, std::string_view node) {
  const auto names = Split(nodes, ',');
  return std::find(names.begin(), names.end(), node) != names.end();
}

bool ValidDatasetName(std::string_view name) {
  if (name.empty() || name.size() > kMaxDatasetNameBytes) return false;
  auto lower_or_digit = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!lower_or_digit(name[0])) return false;
  return std::all_of(name.begin(), name.end(),
                     [&](char c) { return lower_or_digit(c) || c == '.' || c == '_' || c == '-'; });
}

std::optional<Gpus> Gpus::FromNumber(double v) {
  constexpr uint32_t kMostDevices = std::numeric_limits<uint32_t>::max() / kMilli;
  constexpr double kMost = kMostDevices;
  if (!std::isfinite(v) || v < 0 || v > kMost) return std::nullopt;
  const double milli = v * kMilli;
  const double rounded = std::round(milli);
  if (std::abs(milli - rounded) > 1e-6) return std::nullopt;  // more than three decimals
  return FromMilli(static_cast<uint32_t>(rounded));
}

std::string Gpus::ToString() const {
  if (!shared()) return std::to_string(milli_ / kMilli);
  std::string s = fmt::format("{}.{:03}", milli_ / kMilli, milli_ % kMilli);
  while (s.back() == '0') s.pop_back();
  return s;
}

std::string_view StateName(JobState s) { return kStateNames[static_cast<size_t>(s)]; }

std::optional<JobState> ParseState(std::string_view s) {
  for (size_t i = 0; i < kStateNames.size(); ++i) {
    if (kStateNames[i] == s) return static_cast<JobState>(i);
  }
  return std::nullopt;
}

Result<std::string> RandomToken() {
  unsigned char buf[32];
  if (RAND_bytes(buf, sizeof buf) != 1) return Internal("cannot draw random bytes for a token (OpenSSL RAND_bytes)");
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(64);
  for (unsigned char b : buf) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 15]);
  }
  return out;
}

std::string Sha256Hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[md[i] >> 4]);
    out.push_back(kHex[md[i] & 15]);
  }
  return out;
}

}  // namespace suanli::live
