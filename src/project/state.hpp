#pragma once
// A project's state directory, <root>/.quickboot/: stamps, the record of a running
// `up` (up.pid, qemu.pid) and the runtime directory that QEMU's sockets and the
// per-boot initramfs go to. `clean` uses the records to find what a crashed run left.
#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace qb::project {

namespace fs = std::filesystem;

fs::path state_dir(const fs::path& root);  // root / ".quickboot"

// Where `up` points TMPDIR: <root>/.quickboot/tmp, or, when that is too long for the
// unix socket paths QEMU needs, $TMPDIR/quickboot-up.<hash of root>. Not created.
fs::path runtime_dir(const fs::path& root);

// argv of a live process from /proc/PID/cmdline; nullopt when it is gone or unreadable.
std::optional<std::vector<std::string>> process_argv(pid_t pid);

// True when `pid` is this user's process running a qemu-system-* binary one of whose
// arguments names a path under `dir` (quickboot's QEMUs name their runtime directory in
// -qmp and -chardev; commas in it doubled as QEMU options quote them).
bool is_qemu_of(pid_t pid, const fs::path& dir);

// Live qemu-system-* processes of this user whose arguments mention `dir`.
std::vector<pid_t> find_qemus_of(const fs::path& dir);

// While alive, <state>/up.pid holds this process's pid and the runtime dir; a helper
// thread records QEMU's pid in <state>/qemu.pid once quickboot has started it. Both
// files are removed by the destructor (a SIGKILL leaves them for `clean`).
class RunRecord {
public:
  RunRecord(fs::path state, fs::path runtime);
  ~RunRecord();
  RunRecord(const RunRecord&) = delete;
  RunRecord& operator=(const RunRecord&) = delete;

private:
  struct Impl;
  Impl* impl_;
};

// What <state>/up.pid says: the pid of `up` and the runtime directory it used. Only a
// claim: the file may come with a repository, so check both before acting on them.
struct UpRecord {
  pid_t pid = 0;
  fs::path runtime;
};
std::optional<UpRecord> read_up_record(const fs::path& state);

// True when `path` is a directory (not a symlink to one) owned by this user.
bool is_own_dir(const fs::path& path);

// The pid recorded in <state>/NAME ("up.pid", "qemu.pid"), if the file exists.
std::optional<pid_t> read_pid(const fs::path& state, const std::string& name);

// /tmp-style scratch directories (quickboot-vm.*, quickboot-boot.*) under `parent`,
// owned by this user, older than `min_age_s`, that no live process's argv mentions.
std::vector<fs::path> stale_scratch_dirs(const fs::path& parent, int min_age_s);

} // namespace qb::project
