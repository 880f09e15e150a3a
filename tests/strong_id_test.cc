// The strong id types (base/strong_id.h) and the model's ids: what must not
// compile is checked with concepts and type traits, the rest by behaviour.
#include "base/strong_id.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <concepts>
#include <cstdint>
#include <set>
#include <sstream>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/model/job.h"
#include "core/model/network.h"

namespace suanli {
namespace {

// ---- What does not compile.

// No implicit conversion between ids of different kinds, nor from or to the
// underlying integer; explicit construction from the integer only.
static_assert(!std::is_convertible_v<uint32_t, JobId>);
static_assert(!std::is_convertible_v<JobId, uint32_t>);
static_assert(!std::is_convertible_v<int, JobId>);
static_assert(!std::is_convertible_v<JobId, size_t>);
static_assert(!std::is_convertible_v<CenterId, JobId>);
static_assert(!std::is_convertible_v<JobId, CenterId>);
static_assert(!std::is_constructible_v<JobId, CenterId>);
static_assert(!std::is_constructible_v<CenterId, JobId>);
static_assert(!std::is_constructible_v<NodeId, PoolId>);
static_assert(!std::is_constructible_v<TenantId, JobId>);
static_assert(!std::is_constructible_v<uint32_t, JobId>);
static_assert(std::is_constructible_v<JobId, uint32_t>);
static_assert(!std::is_same_v<JobId, CenterId>);
static_assert(!std::is_same_v<CenterId, PoolId>);
static_assert(!std::is_same_v<PoolId, NodeId>);
static_assert(!std::is_same_v<NodeId, TenantId>);

// Ids of different kinds do not compare, and ids do not compare with integers.
template <typename A, typename B>
concept EqualityComparable = requires(A a, B b) {
  a == b;
};
template <typename A, typename B>
concept Orderable = requires(A a, B b) {
  a < b;
};
static_assert(EqualityComparable<JobId, JobId>);
static_assert(Orderable<JobId, JobId>);
static_assert(!EqualityComparable<JobId, CenterId>);
static_assert(!EqualityComparable<JobId, uint32_t>);
static_assert(!Orderable<JobId, CenterId>);
static_assert(!Orderable<NodeId, uint32_t>);

// No arithmetic on ids.
template <typename A>
concept Addable = requires(A a) {
  a + 1;
};
static_assert(!Addable<JobId>);

// An IdVector is indexed by its own id only.
template <typename V, typename I>
concept IndexableBy = requires(V v, I i) {
  v[i];
};
static_assert(IndexableBy<IdVector<JobId, int>, JobId>);
static_assert(!IndexableBy<IdVector<JobId, int>, CenterId>);
static_assert(!IndexableBy<IdVector<JobId, int>, uint32_t>);
static_assert(!IndexableBy<IdVector<JobId, int>, int>);
static_assert(!IndexableBy<IdVector<CenterId, Center>, JobId>);
static_assert(IndexableBy<decltype(Workload::jobs), JobId>);
static_assert(!IndexableBy<decltype(Workload::jobs), size_t>);
static_assert(!IndexableBy<decltype(Network::centers), NodeId>);
static_assert(!IndexableBy<decltype(Network::nodes), CenterId>);
static_assert(!IndexableBy<decltype(Network::pools), NodeId>);
static_assert(std::is_same_v<decltype(Job::tenant), TenantId>);

// Zero cost: an id is its integer, an IdVector is its vector.
static_assert(sizeof(JobId) == sizeof(uint32_t));
static_assert(std::is_trivially_copyable_v<JobId>);
static_assert(sizeof(IdVector<JobId, int>) == sizeof(std::vector<int>));

// ---- Behaviour.

TEST(StrongId, ConstructsComparesAndDefaultsToZero) {
  constexpr JobId a{3}, b{5};
  static_assert(a.value() == 3);
  EXPECT_EQ(JobId{}, JobId{0});
  EXPECT_LT(a, b);
  EXPECT_NE(a, b);
  EXPECT_EQ(a, JobId{3});
  EXPECT_EQ(kNoJob.value(), UINT32_MAX);
  std::set<CenterId> ordered{CenterId{2}, CenterId{0}, CenterId{1}};
  EXPECT_EQ(*ordered.begin(), CenterId{0});
}

TEST(StrongId, HashesAsItsValue) {
  EXPECT_EQ(std::hash<JobId>{}(JobId{42}), std::hash<uint32_t>{}(42));
  std::unordered_map<NodeId, int> m;
  m[NodeId{7}] = 1;
  m[NodeId{9}] = 2;
  EXPECT_EQ(m.at(NodeId{7}), 1);
  std::unordered_set<TenantId> s{TenantId{1}, TenantId{1}, TenantId{4}};
  EXPECT_EQ(s.size(), 2u);
}

TEST(StrongId, FormatsAndPrintsAsTheNumber) {
  EXPECT_EQ(fmt::format("{}", JobId{12}), "12");
  EXPECT_EQ(fmt::format("job {:>4}", CenterId{3}), "job    3");
  EXPECT_EQ(fmt::format("{}", kNoJob), fmt::format("{}", UINT32_MAX));
  std::ostringstream os;
  os << NodeId{8};
  EXPECT_EQ(os.str(), "8");
}

TEST(StrongId, IdsIterateInOrder) {
  std::vector<uint32_t> seen;
  for (JobId id : Ids<JobId>(4)) seen.push_back(id.value());
  EXPECT_EQ(seen, (std::vector<uint32_t>{0, 1, 2, 3}));
  EXPECT_TRUE(Ids<CenterId>(0).empty());
  EXPECT_EQ(Ids<CenterId>(0).begin(), Ids<CenterId>(0).end());
}

TEST(StrongId, IdVectorIndexesByItsId) {
  IdVector<CenterId, std::string> names;
  EXPECT_EQ(names.next_id(), CenterId{0});
  names.push_back("a");
  names.emplace_back("b");
  EXPECT_EQ(names.next_id(), CenterId{2});
  EXPECT_EQ(names[CenterId{1}], "b");
  EXPECT_TRUE(names.contains(CenterId{1}));
  EXPECT_FALSE(names.contains(CenterId{2}));
  names[CenterId{0}] = "c";
  std::vector<std::string> order;
  for (CenterId c : names.ids()) order.push_back(fmt::format("{}={}", c, names[c]));
  EXPECT_EQ(order, (std::vector<std::string>{"0=c", "1=b"}));
  std::vector<std::string> values(names.begin(), names.end());
  EXPECT_EQ(values, names.vec());
  IdVector<NodeId, bool> up(3, true);
  up[NodeId{1}] = false;
  EXPECT_EQ(up.vec(), (std::vector<bool>{true, false, true}));
}

TEST(StrongId, WorkloadAddNumbersJobsByTheirIds) {
  Workload w;
  Job j;
  EXPECT_EQ(w.Add(j, "first"), JobId{0});
  EXPECT_EQ(w.Add(j, "second"), JobId{1});
  EXPECT_EQ(w.jobs[JobId{1}].id, JobId{1});
  EXPECT_EQ(w.JobName(JobId{0}), "first");
  TenantId t = w.tenants.Intern("team-a");
  EXPECT_EQ(w.tenants.Intern("team-b"), TenantId{t.value() + 1});
  EXPECT_EQ(w.tenants.Name(t), "team-a");
  EXPECT_EQ(w.tenants.Find("team-b"), TenantId{1});
}

}  // namespace
}  // namespace suanli
