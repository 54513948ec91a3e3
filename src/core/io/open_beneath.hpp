#pragma once
// Opening a path below a directory descriptor without ever leaving it: no symlink is
// followed in any component (not only the last), no ".." climbs out, no magic links.
// A tree someone else controls can swap a directory for a symlink between our lstat
// and our open; resolved this way, the open fails (ELOOP) instead of reaching a file
// outside the tree.
#include <sys/stat.h>

namespace qb::io {

// openat2(root_fd, rel, flags | O_CLOEXEC | O_NOFOLLOW, RESOLVE_BENEATH |
// RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS). Where openat2 is missing (ENOSYS, or
// EPERM under some seccomp filters) each component is opened in turn with
// O_NOFOLLOW. `rel` "" or "." opens root_fd's directory itself. Returns the
// descriptor, or -1 with errno set.
int open_beneath(int root_fd, const char* rel, int flags);

// The resolve flags open_beneath uses, for io_uring's openat2.
unsigned long long beneath_resolve_flags();

// fstatat of `rel` resolved the same way (the last component not followed). Returns
// 0, or -1 with errno set.
int stat_beneath(int root_fd, const char* rel, struct stat& st);

} // namespace qb::io
