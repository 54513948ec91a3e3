#include "initramfs/hooks.hpp"

#include <sstream>

#include <fmt/format.h>

#include "core/error.hpp"
#include "core/file_util.hpp"
#include "core/log.hpp"
#include "core/process.hpp"
#include "core/shell_quote.hpp"
#include "initramfs/install_env.hpp"

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
    if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos)
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

// QB_GUEST_AUTODETECT=(modules...) when the guest's devices stand in for the host's.
std::string guest_autodetect_line(const InstallEnv& env) {
  if (!env.guest_autodetect) return {};
  std::string s = "QB_GUEST_AUTODETECT=(";
  for (const auto& m : *env.guest_autodetect) s += shell_quote(m) + " ";
  return s + ")\n";
}

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

} // namespace

InstallRequests run_install_hooks(const std::vector<ResolvedHook>& hooks, const InstallEnv& env,
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

  std::vector<std::string> argv = {"bash", "-c", "", "quickboot-install"};
  bool any = false;
  for (const auto& h : hooks) {
    if (h.install) {
      argv.push_back(h.name + ":" + h.install->string());
      any = true;
    } else {
      // A runtime hook without an install hook is added as is, like add_runscript.
      req.runscripts.push_back(h.name);
    }
  }
  if (!any) return req;
  // fd 3 of bash is its stdout (the records); the hooks' own output goes to stderr.
  // mkinitcpio's variables: the image's staging roots, the kernel, the firmware path.
  argv[2] = fmt::format(
      "exec 3>&1 1>&2\nexport BUILDROOT={} EARLYROOT={} KERNELVERSION={} QB_SYSROOT={}\n"
      "_d_kmoduledir={}\n_optmoduleroot={}\n_d_fwpath=(/usr/lib/firmware/updates /usr/lib/firmware)\n_optquiet=1\n"
      "MODULES_DECOMPRESS=no\ndeclare -A _autodetect_cache=()\n{}{}\n",
      shell_quote(env.buildroot.string()), shell_quote(env.earlyroot.string()), shell_quote(env.kernel_release),
      shell_quote(env.sysroot.string()), shell_quote(env.modules_dir.string()),
      shell_quote(env.module_root.string()), guest_autodetect_line(env), kInstallEnv);
  auto r = run_capture(argv, {}, env.hook_timeout);
  std::string current, at;
  bool finished = false;
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);) {
    auto f = split_tabs(line);
    const std::string& kind = f[0];
    auto arg = [&](std::size_t i) { return i < f.size() ? f[i] : std::string(); };
    if (kind == "at") at = arg(1);
    else if (kind == "hook") current = arg(1), at.clear();
    else if (kind == "done") finished = true;
    else if (kind == "module") req.modules.push_back(arg(1));
    else if (kind == "runscript") req.runscripts.push_back(arg(1));
    else if (kind == "fail") {
      std::string file;
      for (const auto& h : hooks)
        if (h.name == arg(1) && h.install) file = h.install->string();
      throw Error(fmt::format("install hook '{}' ({}) {}{}", arg(1), file, arg(2), r.err.empty() ? "" : ":\n" + r.err),
                  "fix the hook, or leave it out of HOOKS");
    } else req.actions.push_back({current, kind, {f.begin() + 1, f.end()}, at});
  }
  if (r.timed_out) {
    std::string file;
    for (const auto& h : hooks)
      if (h.name == current && h.install) file = " (" + h.install->string() + ")";
    throw Error(fmt::format("install hook '{}'{} did not finish within {} s and was stopped", current.empty() ? "?" : current,
                            file, env.hook_timeout.count()),
                "look in its build() for an endless loop or a command waiting for input; "
                "--hook-timeout SECONDS allows more time");
  }
  if (!finished && !current.empty())
    throw Error(fmt::format("install hook '{}' ended the build shell (exit status {}){}", current, r.exit_code,
                            r.err.empty() ? "" : ":\n" + r.err),
                "a hook's build() must return, not exit");
  if (r.exit_code != 0) throw Error("cannot run install hooks in bash: " + r.err, "is bash installed?");
  // The hooks' own messages, as mkinitcpio would print them.
  std::istringstream err(r.err);
  for (std::string line; std::getline(err, line);) {
    if (line.rfind("==> WARNING: ", 0) == 0) log::warn("{}", line.substr(13));
    else if (line.rfind("==> ERROR: ", 0) == 0) log::warn("{}", line);
    else if (line.find(": line ") != std::string::npos) log::warn("{}", line);  // bash's own (command not found)
    else if (!line.empty()) log::debug("{}", line);
  }
  return req;
}

} // namespace qb::initramfs
