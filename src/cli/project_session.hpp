#pragma once
// What `up` does before it boots: find the project, load its config, and bring the
// kernel, the rootfs and the export up to date. `clean` reuses the lookup.
#include <filesystem>
#include <optional>
#include <string>

#include "cli/guest_session.hpp"
#include "project/config.hpp"

namespace qb::cli {

// The project whose quickboot.toml is at or above `dir` (cwd when empty). Throws Error
// with a hint when there is none.
std::filesystem::path require_project_root(const std::string& dir);

// The store id of the project's kernel, adding it on first use when `kernel` names a
// source (recorded in .quickboot/kernel.json so later runs skip the add). nullopt: the
// store's default. Throws Error.
std::optional<std::string> ensure_kernel(const project::Config& c);

// Runs rootfs.command when the rootfs is stale (see project/stale.hpp); checks that the
// rootfs exists. Throws Error naming the command and its status when it fails.
void ensure_rootfs(const project::Config& c);

// Runs the incremental v86 export when [export] dir is set. Throws Error.
void ensure_export(const project::Config& c);

// The boot options the config describes, with `kernel` as resolved by ensure_kernel.
BootOptions boot_options(const project::Config& c, const std::optional<std::string>& kernel);

} // namespace qb::cli
