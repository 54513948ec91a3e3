#pragma once
// Boot snapshots: the whole VM saved at the initramfs's snapshot point (kernel booted,
// every module loaded, nothing of this boot's own yet), restored by later boots with
// the same kernel, base image and machine. Under TCG the kernel's own boot takes most
// of a run's time; restoring the saved state takes a fraction of it.
//
// The saved state is only valid for an identical machine: the key covers the QEMU
// command line (with this boot's own paths left out: shares' host directories,
// sockets), the QEMU binary, the kernel and the initrd. Anything else changes the key.
#include <filesystem>
#include <string>

#include "qemu/command.hpp"

namespace qb::qemu {

// The state file for `c` in `dir` (it may not exist yet).
fs::path snapshot_file(const VmConfig& c, const fs::path& dir);

// Empty when `file` may be handed to QEMU's -incoming: a regular file (not a symlink)
// that is not empty. Otherwise why not ("a FIFO", "empty"...): QEMU's `cat` would wait
// forever on a FIFO, and an empty or non-file state hung the restore.
std::string unusable_snapshot(const fs::path& file);

// Saves the running VM behind `qmp_socket` to `file`: stop, migrate into a temporary
// file that the migration's shell syncs to disk and moves into place once complete
// (so a reader never sees half a state, even after a crash), continue. Returns "" when saved, else why not; either way the VM
// runs again. Throws Error only when the VM could not be resumed.
std::string save_snapshot(const fs::path& qmp_socket, const fs::path& file);

// Deletes all but the `keep` most recently used state files in `dir` (each is as large
// as the guest's touched memory, tens of MB), and temporary files of saves that died.
void prune_snapshots(const fs::path& dir, std::size_t keep);

// Marks `file` as just used (its mtime orders pruning).
void touch_snapshot(const fs::path& file);

} // namespace qb::qemu
