#include "initramfs/hooks.hpp"

#include <sstream>

#include <fmt/format.h>

#include "core/error.hpp"
#include "core/file_util.hpp"
#include "core/log.hpp"
#include "core/process.hpp"

namespace qb::initramfs {

HookDir hook_dir_from_user(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw Error(fmt::format("hook directory {} does not exist or is not a directory", dir.string()),
                "pass a directory holding hooks/NAME and install/NAME, or the runtime hooks themselves");
  if (fs::is_directory(dir / "hooks", ec) || fs::is_directory(dir / "install", ec))
    return {dir / "hooks", dir / "install"};
  return {dir, dir / "install"};
}

std::vector<ResolvedHook> resolve_hooks(const std::vector<std::string>& names, const std::vector<HookDir>& dirs) {
  std::vector<ResolvedHook> out;
  std::error_code ec;
  for (const auto& name : names) {
    if (name.empty() || name.find('/') != std::string::npos)
      throw Error(fmt::format("invalid hook name '{}'", name), "a hook name is a file name, e.g. 9p_root");
    ResolvedHook h{name, {}, {}};
    for (const auto& d : dirs) {
      if (!h.runtime && fs::is_regular_file(d.runtime / name, ec)) h.runtime = d.runtime / name;
      if (!h.install && fs::is_regular_file(d.install / name, ec)) h.install = d.install / name;
    }
    if (!h.runtime && !h.install) {
      std::string where;
      for (const auto& d : dirs) where += fmt::format("\n  {}/{}", d.runtime.string(), name);
      throw Error(fmt::format("unknown hook '{}': looked for{}", name, where),
                  "check the name, or pass the directory holding it with --hooks DIR");
    }
    out.push_back(std::move(h));
  }
  return out;
}

namespace {

// The recorder: mkinitcpio's build-time API, each call written to fd 3 as one
// tab-separated record. Hooks run in subshells so one cannot break the next.
constexpr const char* kRecorder = R"SH(
set -o pipefail
_rec() { local IFS=$'\t'; printf '%s\n' "$*" >&3; }
add_module() { local m; for m in "$@"; do case $m in -*) ;; *) _rec module "${m%\?}";; esac; done; }
add_checked_modules() { _rec warn "add_checked_modules $* (autodetection does not apply to a dev VM; name modules with add_module)"; }
add_all_modules() { _rec warn "add_all_modules $* (ignored; name modules with add_module)"; }
add_file() { [ -n "$1" ] || return 1; _rec file "$1" "${2:-$1}" "${3:-}"; }
add_dir() { _rec dir "$1" "${2:-755}"; }
add_symlink() { _rec symlink "$1" "${2:-$(readlink -f "$QB_SYSROOT$1")}"; }
add_binary() { _rec binary "$1" "${2:-$1}"; }
add_runscript() { _rec runscript "${1:-$QB_HOOK}"; }
add_full_dir() { _rec fulldir "$1"; }
add_firmware() { _rec warn "add_firmware $* (ignored: no firmware in a dev VM image)"; }
add_udev_rule() { _rec warn "add_udev_rule $* (ignored: quickboot's runtime has no udev)"; }
map() { local f=$1; shift; local r=0; for a in "$@"; do "$f" "$a" || r=$?; done; return $r; }
msg() { :; }; msg2() { :; }; plain() { :; }; quiet() { :; }
warning() { _rec warn "$QB_HOOK: $*"; }
error() { _rec warn "$QB_HOOK: error: $*"; }
command_not_found_handle() { _rec warn "$QB_HOOK: ignored call '$1' (not part of what quickboot honours)"; return 0; }
for _spec in "$@"; do
  QB_HOOK=${_spec%%:*}; _file=${_spec#*:}
  _rec hook "$QB_HOOK"
  ( set -e; . "$_file"; if declare -F build >/dev/null; then build; fi ) || { _rec fail "$QB_HOOK" "$?"; }
done
)SH";

std::vector<std::string> split_tabs(const std::string& line) {
  std::vector<std::string> out;
  std::size_t i = 0;
  for (;;) {
    auto j = line.find('\t', i);
    out.push_back(line.substr(i, j == std::string::npos ? std::string::npos : j - i));
    if (j == std::string::npos) break;
    i = j + 1;
  }
  return out;
}

unsigned parse_mode(const std::string& s, unsigned fallback) {
  if (s.empty()) return fallback;
  try {
    return static_cast<unsigned>(std::stoul(s, nullptr, 8));
  } catch (...) {
    return fallback;
  }
}

} // namespace

InstallRequests run_install_hooks(const std::vector<ResolvedHook>& hooks, const fs::path& sysroot,
                                  const fs::path& busybox) {
  InstallRequests req;
  // Runtime hooks are sourced by busybox ash at boot: a syntax error there would only
  // show in the guest. Catch it now, with ash's own parser.
  // One ash process checks them all (each hook wrapped in a function body, which
  // changes no syntax); only when that fails is each checked alone, to name it.
  std::string all;
  for (const auto& h : hooks)
    if (h.runtime) all += "qb_check_" + std::to_string(all.size()) + "() {\n" + read_file(*h.runtime) + "\n:\n}\n";
  if (!all.empty() && run_capture({busybox.string(), "sh", "-n", "-c", all}).exit_code != 0) {
    for (const auto& h : hooks) {
      if (!h.runtime) continue;
      auto r = run_capture({busybox.string(), "sh", "-n", h.runtime->string()});
      if (r.exit_code != 0)
        throw Error(fmt::format("runtime hook {} has a shell syntax error: {}", h.runtime->string(),
                                r.err.empty() ? std::string("(no detail)") : r.err.substr(0, r.err.find('\n'))),
                    "runtime hooks are sourced by busybox ash; fix the script");
    }
  }

  std::vector<std::string> argv = {"bash", "-c", std::string(kRecorder) + "\n", "quickboot-install"};
  bool any = false;
  for (const auto& h : hooks) {
    if (h.install) {
      // No separate `bash -n` (a fork each): a syntax error fails the sourcing below.
      argv.push_back(h.name + ":" + h.install->string());
      any = true;
    } else {
      // A runtime hook without an install hook is added as is, like add_runscript.
      req.runscripts.push_back(h.name);
    }
  }
  if (!any) return req;
  // fd 3 of bash is its stdout; the hooks' own output goes to stderr.
  argv[2] = "exec 3>&1 1>&2\nexport QB_SYSROOT='" + sysroot.string() + "'\n" + argv[2];
  auto r = run_capture(argv);
  if (r.exit_code != 0) throw Error("cannot run install hooks in bash: " + r.err, "is bash installed?");
  std::string current;
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);) {
    auto f = split_tabs(line);
    const std::string& kind = f[0];
    auto arg = [&](std::size_t i) { return i < f.size() ? f[i] : std::string(); };
    if (kind == "hook") current = arg(1);
    else if (kind == "module") req.modules.push_back(arg(1));
    else if (kind == "file") req.files.push_back({arg(1), arg(2), parse_mode(arg(3), 0)});
    else if (kind == "dir") req.dirs.emplace_back(arg(1), parse_mode(arg(2), 0755));
    else if (kind == "symlink") req.symlinks.emplace_back(arg(1), arg(2));
    else if (kind == "binary") req.binaries.emplace_back(arg(1), arg(2));
    else if (kind == "runscript") req.runscripts.push_back(arg(1));
    else if (kind == "fulldir") req.warnings.push_back(fmt::format("{}: add_full_dir {} (ignored)", current, arg(1)));
    else if (kind == "warn") req.warnings.push_back(arg(1));
    else if (kind == "fail") {
      std::string file;
      for (const auto& h : hooks)
        if (h.name == arg(1) && h.install) file = h.install->string();
      throw Error(fmt::format("install hook {} failed in build() (status {}){}", file, arg(2),
                              r.err.empty() ? "" : ":\n" + r.err),
                  "fix the hook, or leave it out of HOOKS");
    }
  }
  for (const auto& w : req.warnings) log::warn("{}", w);
  return req;
}

} // namespace qb::initramfs
