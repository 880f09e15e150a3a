// Strong id types: an id of one kind (a job, a center, a node, ...) is a type
// of its own, so it cannot be mixed up with an id of another kind or with a
// plain integer. StrongId<Tag, Rep> holds a Rep and nothing else; it is built
// from a Rep only explicitly and gives it back with value(). IdVector<Id, T>
// is a std::vector indexed by one kind of id only. Both compile away: an id is
// passed, compared and hashed as its Rep, and IdVector's operator[] is
// std::vector's (unchecked).
//
//   JobId j{3};                  // explicit; JobId j = 3 does not compile
//   IdVector<JobId, Job> jobs;   // jobs[j]; jobs[center] or jobs[3] do not compile
//   for (JobId id : jobs.ids())  // or Ids<JobId>(n): 0 .. n-1 as ids
//
// Where a raw number is needed (a file, a CSV column, the API), value()
// converts visibly; fmt::format("{}", id) prints the number.
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <iterator>
#include <limits>
#include <ostream>
#include <type_traits>
#include <utility>
#include <vector>

#include <fmt/core.h>

namespace suanli {

template <typename Tag, typename Rep = uint32_t>
class StrongId {
  static_assert(std::is_integral_v<Rep> && !std::is_same_v<Rep, bool>);

 public:
  using rep_type = Rep;

  constexpr StrongId() = default;
  constexpr explicit StrongId(Rep v) : v_(v) {}

  constexpr Rep value() const { return v_; }

  friend constexpr bool operator==(StrongId, StrongId) = default;
  friend constexpr auto operator<=>(StrongId, StrongId) = default;
  friend std::ostream& operator<<(std::ostream& os, StrongId id) { return os << +id.v_; }

 private:
  Rep v_{};
};

template <typename T>
inline constexpr bool kIsStrongId = false;
template <typename Tag, typename Rep>
inline constexpr bool kIsStrongId<StrongId<Tag, Rep>> = true;

template <typename Id>
concept StrongIdType = kIsStrongId<Id>;

// The ids 0 .. n-1, in order: `for (JobId id : Ids<JobId>(n))`.
template <StrongIdType Id>
class Ids {
 public:
  using Rep = typename Id::rep_type;
  class iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = Id;
    using difference_type = std::ptrdiff_t;
    using pointer = void;
    using reference = Id;
    constexpr iterator() = default;
    constexpr explicit iterator(Rep v) : v_(v) {}
    constexpr Id operator*() const { return Id(v_); }
    constexpr iterator& operator++() {
      ++v_;
      return *this;
    }
    constexpr iterator operator++(int) {
      iterator old = *this;
      ++v_;
      return old;
    }
    friend constexpr bool operator==(iterator, iterator) = default;

   private:
    Rep v_{};
  };

  constexpr explicit Ids(size_t n) : n_(static_cast<Rep>(n)) {}
  constexpr iterator begin() const { return iterator(0); }
  constexpr iterator end() const { return iterator(n_); }
  constexpr size_t size() const { return n_; }
  constexpr bool empty() const { return n_ == 0; }

 private:
  Rep n_;
};

// A std::vector whose elements are indexed by one kind of id. The underlying
// vector is at vec() for what needs positions (algorithms, serialisation).
template <StrongIdType Id, typename T>
class IdVector {
  using Vec = std::vector<T>;

 public:
  using id_type = Id;
  using value_type = T;
  using size_type = typename Vec::size_type;
  using reference = typename Vec::reference;
  using const_reference = typename Vec::const_reference;
  using iterator = typename Vec::iterator;
  using const_iterator = typename Vec::const_iterator;

  IdVector() = default;
  explicit IdVector(size_t n) : v_(n) {}
  IdVector(size_t n, const T& x) : v_(n, x) {}
  IdVector(std::initializer_list<T> init) : v_(init) {}
  explicit IdVector(Vec v) : v_(std::move(v)) {}

  reference operator[](Id id) { return v_[id.value()]; }
  const_reference operator[](Id id) const { return v_[id.value()]; }
  reference at(Id id) { return v_.at(id.value()); }
  const_reference at(Id id) const { return v_.at(id.value()); }
  // Whether `id` has an element here.
  bool contains(Id id) const { return id.value() < v_.size(); }

  size_t size() const { return v_.size(); }
  bool empty() const { return v_.empty(); }
  void reserve(size_t n) { v_.reserve(n); }
  void resize(size_t n) { v_.resize(n); }
  void resize(size_t n, const T& x) { v_.resize(n, x); }
  void assign(size_t n, const T& x) { v_.assign(n, x); }
  void clear() { v_.clear(); }
  void push_back(const T& x) { v_.push_back(x); }
  void push_back(T&& x) { v_.push_back(std::move(x)); }
  template <typename... A>
  reference emplace_back(A&&... a) {
    return v_.emplace_back(std::forward<A>(a)...);
  }
  void pop_back() { v_.pop_back(); }
  reference front() { return v_.front(); }
  const_reference front() const { return v_.front(); }
  reference back() { return v_.back(); }
  const_reference back() const { return v_.back(); }
  T* data() { return v_.data(); }
  const T* data() const { return v_.data(); }

  iterator begin() { return v_.begin(); }
  iterator end() { return v_.end(); }
  const_iterator begin() const { return v_.begin(); }
  const_iterator end() const { return v_.end(); }
  const_iterator cbegin() const { return v_.cbegin(); }
  const_iterator cend() const { return v_.cend(); }

  // The ids of the elements, in order; and the id the next push_back gets.
  Ids<Id> ids() const { return Ids<Id>(v_.size()); }
  Id next_id() const { return Id(static_cast<typename Id::rep_type>(v_.size())); }

  Vec& vec() { return v_; }
  const Vec& vec() const { return v_; }

  friend bool operator==(const IdVector&, const IdVector&) = default;

 private:
  Vec v_;
};

}  // namespace suanli

template <typename Tag, typename Rep>
struct std::hash<suanli::StrongId<Tag, Rep>> {
  size_t operator()(suanli::StrongId<Tag, Rep> id) const noexcept { return std::hash<Rep>{}(id.value()); }
};

// Formats as the number: fmt::format("{}", id) == fmt::format("{}", id.value()).
template <typename Tag, typename Rep>
struct fmt::formatter<suanli::StrongId<Tag, Rep>> : fmt::formatter<Rep> {
  template <typename FormatContext>
  auto format(suanli::StrongId<Tag, Rep> id, FormatContext& ctx) const {
    return fmt::formatter<Rep>::format(id.value(), ctx);
  }
};
