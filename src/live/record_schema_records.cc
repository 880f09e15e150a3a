// The tables of fields of the API's answers (record_schema.h): a tenant, one
// row of usage, a job and one ended run of a job. Their JSON encode and OpenAPI schemas follow them.
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
    {.json = "home",
     .member = &Tenant::home,
     .limits = {.max = 256},
     .description = "its home center, where the isolated dispatch policy keeps its jobs"},
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

constexpr std::string_view kOutcomes[] = {"succeeded", "failed", "cancelled", "preempted", "requeued", "abandoned"};

const Field<JobAttempt> kAttempt[] = {
    {.json = "n", .member = &JobAttempt::n, .description = "1, 2, ... in the order the runs started"},
    {.json = "center", .member = &JobAttempt::center, .description = "the center it ran in"},
    {.json = "node",
     .member = &JobAttempt::node,
     .description = "the node inside the center (a multi-node job: its nodes, comma-separated, in rank order)"},
    {.json = "model", .member = &JobAttempt::model, .description = "the accelerator model (empty: CPU-only)"},
    {.json = "devices",
     .member = &JobAttempt::devices,
     .description = "device indices on that node (a multi-node job: each node's in turn, as many on each)"},
    {.json = "start_ms", .member = &JobAttempt::start_ms, .description = "when it started (Unix milliseconds)"},
    {.json = "end_ms", .member = &JobAttempt::end_ms, .description = "when it ended (Unix milliseconds)"},
    {.json = "outcome",
     .member = &JobAttempt::outcome,
     .description = "how it ended: the job's own end, or stopped by its center's scheduler (preempted), by its "
                    "center (requeued), or lost with its center (abandoned)",
     .choices = kOutcomes},
    {.json = "reason", .member = &JobAttempt::reason, .description = "why it ended so"},
    {.json = "checkpoint_ms",
     .member = &JobAttempt::checkpoint_ms,
     .description = "when the job last reported a checkpoint in this run (0: never); the work up to it was kept"},
    {.json = "gpu_seconds", .member = &JobAttempt::gpu_seconds, .description = "accelerator-seconds of this run"},
    {.json = "energy_kwh", .member = &JobAttempt::energy_kwh, .description = "kWh of this run"},
    {.json = "cost", .member = &JobAttempt::cost, .description = "the energy's cost of this run"},
    {.json = "carbon_kg", .member = &JobAttempt::carbon_kg, .description = "kg of CO2 of this run"},
};

const Field<JobEvent> kEvent[] = {
    {.json = "time_ms", .member = &JobEvent::time_ms, .description = "when it happened (Unix milliseconds)"},
    {.json = "kind", .member = &JobEvent::kind, .description = "what happened", .choices = kEventKinds},
    {.json = "message", .member = &JobEvent::message, .description = "what happened, in words"},
};

const Field<JobRecord> kJob[] = {
    {.json = "id", .member = &JobRecord::id, .description = "assigned at submission (1, 2, ...), never reused"},
    {.json = "tenant", .member = &JobRecord::tenant, .description = "the tenant that submitted it"},
    {.json = "model", .member = &JobRecord::model, .description = "the accelerator model it runs on (empty: CPU-only)"},
    {.json = "node",
     .member = &JobRecord::node,
     .description = "the node inside its center (a multi-node job: its nodes, comma-separated, in rank order)"},
    {.json = "devices",
     .member = &JobRecord::devices,
     .description = "device indices on that node (a multi-node job: each node's in turn, as many on each)"},
    {.json = "backend_id",
     .member = &JobRecord::backend_id,
     .description = "the backend's id of it (local: its supervisor's pid; slurm: the job id)"},
    {.json = "submit_ms", .member = &JobRecord::submit_ms, .description = "when it was submitted (Unix milliseconds)"},
    {.json = "start_ms", .member = &JobRecord::start_ms, .description = "when it started (0: not yet)"},
    {.json = "end_ms", .member = &JobRecord::end_ms, .description = "when it ended (0: not yet)"},
    {.json = "est_start_ms",
     .member = &JobRecord::est_start_ms,
     .description = "pending: its estimated start (0: unknown)"},
    {.json = "exit_code", .member = &JobRecord::exit_code, .description = "its process's exit status (-1: none)"},
    {.json = "signal", .member = &JobRecord::signal, .description = "the signal that ended it (0: none)"},
    {.json = "reason", .member = &JobRecord::reason, .description = "why it is pending, failed or cancelled"},
    {.json = "checkpoint_ms",
     .member = &JobRecord::checkpoint_ms,
     .description = "running: when it last reported a checkpoint in this run (0: not yet)"},
    {.json = "service",
     .member = &JobRecord::service,
     .description = "a service's replica: the service's id (its first replica's); 0: a batch job"},
    {.json = "gpu_seconds", .member = &JobRecord::gpu_seconds, .description = "accelerator-seconds, over its attempts"},
    {.json = "energy_kwh", .member = &JobRecord::energy_kwh, .description = "kWh, over its attempts"},
    {.json = "cost", .member = &JobRecord::cost, .description = "the energy's cost, over its attempts"},
    {.json = "carbon_kg", .member = &JobRecord::carbon_kg, .description = "kg of CO2, over its attempts"},
};

}  // namespace

std::span<const Field<JobRecord>> JobFields() { return kJob; }
std::span<const Field<JobAttempt>> AttemptFields() { return kAttempt; }
std::span<const Field<JobEvent>> EventFields() { return kEvent; }
std::span<const Field<Tenant>> TenantFields() { return kTenant; }
std::span<const Field<UsageSum>> UsageFields() { return kUsage; }

}  // namespace suanli::live::schema
