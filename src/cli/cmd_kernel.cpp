// `quickboot kernel add|list|show|rm|default`: the kernel store from the command line.
#include <fmt/format.h>

#include "cli/commands.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/paths.hpp"
#include "kernel/add.hpp"
#include "kernel/store.hpp"

namespace qb::cli {

namespace {

nlohmann::json to_json(const kernel::KernelEntry& e) {
  auto opt = [](const std::optional<std::filesystem::path>& p) {
    return p ? nlohmann::json(p->string()) : nlohmann::json(nullptr);
  };
  return {
      {"id", e.id},
      {"release", e.release},
      {"arch", e.arch},
      {"bzimage", e.bzimage.string()},
      {"vmlinux", opt(e.vmlinux)},
      {"config", opt(e.config)},
      {"modules", e.modules_dir.string()},
      {"module_count", e.module_count},
      {"source", e.source},
      {"name", e.name.empty() ? nlohmann::json(nullptr) : nlohmann::json(e.name)},
      {"default", e.is_default},
      {"added", e.added},
  };
}

void print_entry(const kernel::KernelEntry& e) {
  fmt::print("id:        {}{}\n", e.id, e.is_default ? "  (default)" : "");
  if (!e.name.empty()) fmt::print("name:      {}\n", e.name);
  fmt::print("release:   {}\narch:      {}\nbzImage:   {}\n", e.release, e.arch, e.bzimage.string());
  fmt::print("vmlinux:   {}\n", e.vmlinux ? e.vmlinux->string() : "none (no PVH entry note: boots through the bzImage)");
  fmt::print("config:    {}\n", e.config ? e.config->string() : "none");
  fmt::print("modules:   {} ({} modules)\nsource:    {}\nadded:     {}\n", e.modules_dir.string(), e.module_count,
             e.source, e.added);
}

struct AddArgs {
  std::string source, modules, name, release;
  bool make_default = false;
};

} // namespace

void add_kernel_command(CLI::App& app, GlobalOptions& g) {
  auto* kernel = app.add_subcommand("kernel", "Add, list, show and remove the kernels quickboot boots");
  kernel->require_subcommand(1);
  kernel->footer(
      "Kernels live in $QUICKBOOT_HOME/kernels (default ~/.cache/quickboot/kernels), one directory per\n"
      "kernel with its bzImage, its vmlinux (when directly bootable), config and modules.\n\n"
      "Examples:\n"
      "  quickboot kernel add linux-image-6.1.0-28-amd64_6.1.119-1_amd64.deb\n"
      "  quickboot kernel list --json");

  auto args = std::make_shared<AddArgs>();
  auto* add = kernel->add_subcommand("add", "Take a kernel and its modules out of a package, ISO, rootfs or bzImage");
  add->add_option("SOURCE", args->source,
                  "A Debian/Ubuntu .deb, an Arch .pkg.tar.zst/.xz, an ISO (archiso layout), a rootfs directory, or a bzImage")
      ->required();
  add->add_option("--modules", args->modules,
                  "Where the modules come from when SOURCE has none (bzImage, ISO): a lib/modules/<release> "
                  "directory, a rootfs, a kernel package, or 'none'");
  add->add_option("--name", args->name, "A short name to refer to this kernel by (kernel show NAME)");
  add->add_option("--release", args->release, "Which kernel to take when SOURCE holds several");
  add->add_flag("--default", args->make_default, "Make it the default kernel (the first one added always is)");
  add->footer(
      "The kind of SOURCE is detected from its content. Nothing is mounted; no root needed.\n"
      "Adding a kernel that is already in the store is not an error: it is reported and reused.\n\n"
      "Examples:\n"
      "  quickboot kernel add linux-image-6.1.0-28-amd64_6.1.119-1_amd64.deb\n"
      "  quickboot kernel add linux-6.6.1.arch1-1-x86_64.pkg.tar.zst --name arch\n"
      "  quickboot kernel add archlinux-x86_64.iso --modules linux-6.6.1.arch1-1-x86_64.pkg.tar.zst\n"
      "  quickboot kernel add /srv/rootfs --release 6.1.0-28-amd64\n"
      "  quickboot kernel add arch/x86/boot/bzImage --modules /tmp/mods/lib/modules/6.8.0\n"
      "  quickboot kernel add bzImage --modules none       (everything built in)");
  add->callback([args, &g] {
    kernel::KernelStore store(quickboot_home());
    kernel::AddOptions o;
    o.source = args->source;
    if (!args->modules.empty()) o.modules = args->modules;
    if (!args->name.empty()) o.name = args->name;
    if (!args->release.empty()) o.release = args->release;
    o.make_default = args->make_default;
    auto r = kernel::add_kernel(store, o);
    if (g.json) {
      auto j = to_json(r.entry);
      j["already_present"] = r.already_present;
      j["source_kind"] = r.source_kind;
      print_json(j);
      return;
    }
    if (r.already_present)
      log::notice("kernel {} is already in the store (same release and bzImage): nothing to do", r.entry.id);
    else
      log::notice("added kernel {} from {} ({})", r.entry.id, args->source, r.source_kind);
    print_entry(r.entry);
  });

  auto* list = kernel->add_subcommand("list", "List the kernels in the store");
  list->footer("Examples:\n  quickboot kernel list\n  quickboot --json kernel list | jq -r '.[].id'");
  list->callback([&g] {
    kernel::KernelStore store(quickboot_home());
    auto all = store.list();
    if (g.json) {
      nlohmann::json j = nlohmann::json::array();
      for (auto& e : all) j.push_back(to_json(e));
      print_json(j);
      return;
    }
    if (all.empty()) {
      log::notice("no kernels in {}; add one with `quickboot kernel add SOURCE`", store.root().string());
      return;
    }
    for (auto& e : all)
      fmt::print("{} {:<40} {:<7} {:>5} modules  vmlinux:{}  {}\n", e.is_default ? '*' : ' ', e.id, e.arch,
                 e.module_count, e.vmlinux ? "yes" : "no ", e.name.empty() ? "" : "(" + e.name + ")");
  });

  auto id = std::make_shared<std::string>();
  auto* show = kernel->add_subcommand("show", "Show one kernel: paths, release, architecture, module count");
  show->add_option("ID", *id, "An id, a unique id prefix, a release or a --name")->required();
  show->footer("Examples:\n  quickboot kernel show 6.1.0-28-amd64\n  quickboot --json kernel show 6.1 | jq -r .vmlinux");
  show->callback([id, &g] {
    kernel::KernelStore store(quickboot_home());
    auto e = store.find(*id);
    if (g.json) print_json(to_json(e));
    else print_entry(e);
  });

  auto rm_id = std::make_shared<std::string>();
  auto* rm = kernel->add_subcommand("rm", "Remove a kernel from the store");
  rm->add_option("ID", *rm_id, "An id, a unique id prefix, a release or a --name")->required();
  rm->footer("Example:\n  quickboot kernel rm 6.1.0-28-amd64");
  rm->callback([rm_id, &g] {
    kernel::KernelStore store(quickboot_home());
    auto e = store.find(*rm_id);
    store.remove(e.id);
    if (g.json) print_json({{"removed", e.id}});
    else log::notice("removed kernel {}", e.id);
  });

  auto def_id = std::make_shared<std::string>();
  auto* def = kernel->add_subcommand("default", "Choose the kernel that boot and run use when none is given");
  def->add_option("ID", *def_id, "An id, a unique id prefix, a release or a --name")->required();
  def->footer("Example:\n  quickboot kernel default 6.1.0-28-686");
  def->callback([def_id, &g] {
    kernel::KernelStore store(quickboot_home());
    store.set_default(*def_id);
    auto e = store.resolve(std::nullopt);
    if (g.json) print_json(to_json(e));
    else log::notice("default kernel is now {}", e.id);
  });
}

} // namespace qb::cli
