// Internals of the workload generator shared by its source files (not an API):
//
//   generator_fit.cc    the fitted constants (BuiltinFit) and their fit from
//                       the traces (FitGeneratorFromTraces, FitToSource)
//   generator.cc        the generator: its tables, arrivals, run times and
//                       job shapes (profiles mixed, philly, openb), and
//                       GenTarget from a network
//   generator_net.cc    the china-aicc profile: a workload for a network of
//                       centers
//   generator_write.cc  a generator run to the end: in memory, or written to a
//                       native workload file
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/model/catalog.h"

namespace suanli::generator_detail {

inline void AddWeight(std::vector<uint64_t>* cum, uint64_t w) { cum->push_back((cum->empty() ? 0 : cum->back()) + w); }

// The models of `pool` with at least `min_gb` of device memory; if none has
// that much, those of `pool` with the most memory.
ModelMask MemoryFloor(const Catalog& catalog, ModelMask pool, double min_gb);

std::string PaddedName(const char* prefix, uint32_t i, uint32_t count);

}  // namespace suanli::generator_detail
