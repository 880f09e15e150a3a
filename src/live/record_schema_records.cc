// The tables of fields of the API's answers (record_schema.h): a tenant and
// one row of usage. Their JSON encode and OpenAPI schemas follow them.
#include "live/record_schema.h"
#include "live/store.h"

namespace suanli::live::schema {
namespace {

const Field<Tenant> kTenant[] = {
    {.json = "name",
     .member = &Tenant::name,
     .limits = {.max = 40},
     .description = "1 to 40 lowercase letters, digits, '_' or '-', starting with a letter"},
    {.json = "admin", .member = &Tenant::admin, .description = "may manage tenants and centers and see every job"},
    {.json = "max_gpus_per_job",
     .member = &Tenant::max_gpus_per_job,
     .limits = {.min = 0, .max = kMaxTenantGpusPerJob},
     .description = "the most accelerators one of its jobs may ask for (0: no limit)"},
    {.json = "max_active_jobs",
     .member = &Tenant::max_active_jobs,
     .limits = {.min = 0, .max = kMaxTenantActiveJobs},
     .description = "the most jobs it may have pending or running at once (0: no limit)"},
    {.json = "max_priority",
     .member = &Tenant::max_priority,
     .limits = {.min = 0, .max = kMaxTenantPriority},
     .description = "the highest priority its jobs may ask for"},
    {.json = "created_ms", .member = &Tenant::created_ms, .description = "when it was created (Unix milliseconds)"},
};

const Field<UsageSum> kUsage[] = {
    {.json = "tenant", .member = &UsageSum::tenant, .description = "the tenant"},
    {.json = "center", .member = &UsageSum::center, .description = "the center"},
    {.json = "model", .member = &UsageSum::model, .description = "the accelerator model (empty: CPU-only jobs)"},
    {.json = "jobs", .member = &UsageSum::jobs, .description = "jobs ended in [from, to)"},
    {.json = "gpu_seconds",
     .member = &UsageSum::gpu_seconds,
     .description = "accelerator-seconds of the runs' parts inside [from, to)"},
    {.json = "energy_kwh",
     .member = &UsageSum::energy_kwh,
     .description = "kWh: the accelerators' board power × the center's PUE"},
    {.json = "cost", .member = &UsageSum::cost, .description = "the energy priced with the center's hourly tariff"},
    {.json = "carbon_kg",
     .member = &UsageSum::carbon_kg,
     .description = "kg of CO2 at the grid's hourly carbon intensity"},
};

}  // namespace

std::span<const Field<Tenant>> TenantFields() { return kTenant; }
std::span<const Field<UsageSum>> UsageFields() { return kUsage; }

}  // namespace suanli::live::schema
