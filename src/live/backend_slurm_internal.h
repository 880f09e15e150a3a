// Internals of the slurm backend (not an API; live/backend_slurm.h is): the
// helper its source files share, one responsibility each:
//
//   backend_slurm.cc         the backend itself: probing the nodes (sinfo),
//                            launching (sbatch), cancelling (scancel) and
//                            following jobs (squeue, scontrol, sacct)
//   backend_slurm_parse.cc   reading Slurm's answers: sinfo's nodes, squeue's
//                            rows, scontrol's final record, times and states,
//                            and the event of a job that ended
//   backend_slurm_script.cc  what is given to sbatch: the batch script and
//                            the command line
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace suanli::live::slurm_detail {

// "key=value" of `scontrol show job -o`: the value runs to the next space.
std::optional<std::string> Field(std::string_view text, std::string_view key);

}  // namespace suanli::live::slurm_detail
