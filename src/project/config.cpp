#include "project/config.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <map>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "core/error.hpp"
#include "core/file_util.hpp"

namespace qb::project {

namespace {

// One file being applied: errors name it, relative paths resolve against the root.
struct Source {
  fs::path file;
  fs::path root;
};

const char* type_name(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a number";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::array: return "an array";
    case toml::node_type::table: return "a table";
    default: return "a date or time";
  }
}

[[noreturn]] void fail_at(const Source& s, const toml::source_region& where, const std::string& key,
                          const std::string& msg, std::string hint = {}) {
  throw Error(fmt::format("{}:{}: {}: {}", s.file.string(), where.begin.line, key, msg), std::move(hint));
}

[[noreturn]] void wrong_type(const Source& s, const toml::node& n, const std::string& key, const char* want) {
  fail_at(s, n.source(), key, fmt::format("expected {}, got {}", want, type_name(n)));
}

std::string get_string(const Source& s, const toml::node& n, const std::string& key) {
  if (auto v = n.value_exact<std::string>()) return *v;
  wrong_type(s, n, key, "a string");
}

bool get_bool(const Source& s, const toml::node& n, const std::string& key) {
  if (auto v = n.value_exact<bool>()) return *v;
  wrong_type(s, n, key, "a boolean (true or false)");
}

std::int64_t get_int(const Source& s, const toml::node& n, const std::string& key, std::int64_t lo, std::int64_t hi) {
  auto v = n.value_exact<std::int64_t>();
  if (!v) wrong_type(s, n, key, "an integer");
  if (*v < lo || *v > hi) fail_at(s, n.source(), key, fmt::format("{} is out of range ({}-{})", *v, lo, hi));
  return *v;
}

std::string get_choice(const Source& s, const toml::node& n, const std::string& key,
                       std::initializer_list<const char*> choices) {
  std::string v = get_string(s, n, key);
  for (const char* c : choices)
    if (v == c) return v;
  fail_at(s, n.source(), key, fmt::format("'{}' is not one of: {}", v, fmt::join(choices, ", ")));
}

// An array of strings; a single string is accepted as a one-element list.
std::vector<std::string> get_strings(const Source& s, const toml::node& n, const std::string& key) {
  if (n.is_string()) return {get_string(s, n, key)};
  const auto* arr = n.as_array();
  if (!arr) wrong_type(s, n, key, "an array of strings");
  std::vector<std::string> out;
  for (std::size_t i = 0; i < arr->size(); ++i) out.push_back(get_string(s, *arr->get(i), fmt::format("{}[{}]", key, i)));
  return out;
}

fs::path resolve(const Source& s, const std::string& p) {
  fs::path path(p);
  return (path.is_absolute() ? path : s.root / path).lexically_normal();
}

std::vector<fs::path> get_paths(const Source& s, const toml::node& n, const std::string& key) {
  std::vector<fs::path> out;
  for (const auto& p : get_strings(s, n, key)) out.push_back(resolve(s, p));
  return out;
}

const toml::table& get_table(const Source& s, const toml::node& n, const std::string& key) {
  const auto* t = n.as_table();
  if (!t) wrong_type(s, n, key, "a table");
  return *t;
}

[[noreturn]] void unknown_key(const Source& s, const toml::key& k, const std::string& prefix,
                              std::initializer_list<const char*> known) {
  fail_at(s, k.source(), prefix + std::string(k.str()), "unknown key",
          fmt::format("known keys{}: {}", prefix.empty() ? "" : " in [" + prefix.substr(0, prefix.size() - 1) + "]",
                      fmt::join(known, ", ")));
}

#define QB_KEYS(...) std::initializer_list<const char*>{__VA_ARGS__}

void apply_rootfs(const Source& s, const toml::node& n, Config& c) {
  if (n.is_string()) {
    c.rootfs = resolve(s, get_string(s, n, "rootfs"));
    return;
  }
  if (!n.is_table()) wrong_type(s, n, "rootfs", "a directory (string) or a table");
  for (auto&& [k, v] : *n.as_table()) {
    std::string key = "rootfs." + std::string(k.str());
    if (k == "dir") c.rootfs = resolve(s, get_string(s, v, key));
    else if (k == "command") c.rootfs_command = get_string(s, v, key);
    else if (k == "inputs") c.rootfs_inputs = get_strings(s, v, key);
    else unknown_key(s, k, "rootfs.", QB_KEYS("dir", "command", "inputs"));
  }
}

void apply_initrd(const Source& s, const toml::node& n, Config& c) {
  for (auto&& [k, v] : get_table(s, n, "initrd")) {
    std::string key = "initrd." + std::string(k.str());
    if (k == "hook_dirs") c.hook_dirs = get_paths(s, v, key);
    else if (k == "hooks") c.hooks = get_strings(s, v, key);
    else if (k == "modules") c.modules = get_strings(s, v, key);
    else if (k == "add") {
      c.adds.clear();
      for (const auto& a : get_strings(s, v, key)) {
        auto colon = a.find(':');
        if (colon == std::string::npos || colon == 0 || colon + 1 == a.size())
          fail_at(s, v.source(), key, fmt::format("'{}': expected HOST:GUEST", a));
        c.adds.push_back(resolve(s, a.substr(0, colon)).string() + a.substr(colon));
      }
    } else if (k == "compress") c.compress = get_choice(s, v, key, {"none", "zstd", "gzip", "lz4"});
    else if (k == "runtime") c.runtime = get_choice(s, v, key, {"quickboot", "rootfs"});
    else unknown_key(s, k, "initrd.", QB_KEYS("hook_dirs", "hooks", "modules", "add", "compress", "runtime"));
  }
}

void apply_boot(const Source& s, const toml::node& n, Config& c) {
  for (auto&& [k, v] : get_table(s, n, "boot")) {
    std::string key = "boot." + std::string(k.str());
    if (k == "memory") c.memory_mb = static_cast<unsigned>(get_int(s, v, key, 16, 1 << 20));
    else if (k == "cpus") c.cpus = static_cast<unsigned>(get_int(s, v, key, 1, 256));
    else if (k == "append") c.append = get_strings(s, v, key);
    else if (k == "machine") c.machine = get_choice(s, v, key, {"pc", "q35", "microvm"});
    else if (k == "accel") c.accel = get_choice(s, v, key, {"auto", "kvm", "tcg"});
    else if (k == "net") c.net = get_choice(s, v, key, {"none", "user"});
    else if (k == "writable") c.writable = get_bool(s, v, key);
    else if (k == "timeout") {
      auto t = v.value<double>();
      if (!t || !(v.is_integer() || v.is_floating_point())) wrong_type(s, v, key, "a number of seconds");
      // 0 means none; a deadline past a year would overflow the clock arithmetic.
      if (!(*t >= 0 && *t <= kMaxTimeoutS))
        fail_at(s, v.source(), key, fmt::format("{} is out of range (0 for none, up to {} seconds)", *t, kMaxTimeoutS));
      c.timeout_s = *t;
    } else unknown_key(s, k, "boot.", QB_KEYS("memory", "cpus", "append", "machine", "accel", "net", "writable", "timeout"));
  }
}

void apply_export(const Source& s, const toml::node& n, Config& c) {
  for (auto&& [k, v] : get_table(s, n, "export")) {
    std::string key = "export." + std::string(k.str());
    if (k == "dir") c.export_dir = resolve(s, get_string(s, v, key));
    else if (k == "zstd") {
      if (v.is_boolean()) c.export_zstd = get_bool(s, v, key) ? 19 : 0;
      else if (v.is_integer()) c.export_zstd = static_cast<int>(get_int(s, v, key, 0, 19));
      else wrong_type(s, v, key, "a boolean or a level (1-19)");
    } else unknown_key(s, k, "export.", QB_KEYS("dir", "zstd"));
  }
}

// Applies every key of `t` except `variant`, which the caller handles.
void apply(const Source& s, const toml::table& t, Config& c, bool in_variant) {
  for (auto&& [k, v] : t) {
    std::string key(k.str());
    if (k == "kernel") c.kernel = get_string(s, v, key);
    else if (k == "rootfs") apply_rootfs(s, v, c);
    else if (k == "overlays") c.overlays = get_paths(s, v, key);
    else if (k == "inject") {
      c.injects.clear();
      for (const auto& inj : get_strings(s, v, key)) {
        auto colon = inj.find(':');
        if (colon == std::string::npos || colon == 0 || colon + 1 >= inj.size() || inj[colon + 1] != '/')
          fail_at(s, v.source(), key, fmt::format("'{}': expected HOST:/GUEST[:ro]", inj), "e.g. inject = [\".:/root/project\"]");
        c.injects.push_back(resolve(s, inj.substr(0, colon)).string() + inj.substr(colon));
      }
    } else if (k == "initrd") apply_initrd(s, v, c);
    else if (k == "boot") apply_boot(s, v, c);
    else if (k == "export") apply_export(s, v, c);
    else if (k == "variant" && !in_variant) {
      // Every variant is checked, selected or not, so a typo fails today and not on the
      // day someone picks that variant.
      for (auto&& [name, vt] : get_table(s, v, "variant")) {
        Config scratch = c;
        apply(s, get_table(s, vt, "variant." + std::string(name.str())), scratch, true);
      }
    } else
      unknown_key(s, k, in_variant ? "variant.*." : "",
                  QB_KEYS("kernel", "rootfs", "overlays", "inject", "initrd", "boot", "export", "variant"));
  }
}

// toml++ parses nested arrays, inline tables and dotted keys by recursion: an 80 KB
// header of 40,000 dotted parts overflowed the stack. Real configs are a few KB with
// keys three or four parts deep, so bound the size, the dotted parts of one key and the
// bracket nesting before toml++ sees the text.
constexpr std::size_t kMaxConfigBytes = 1 << 20;
constexpr int kMaxKeyParts = 64, kMaxNesting = 32;

void check_shape(const fs::path& file, std::string_view text) {
  int line = 1, dots = 0, depth = 0;
  auto too_deep = [&](const char* what, int limit) {
    throw Error(fmt::format("{}:{}: {} (more than {})", file.string(), line, what, limit),
                "quickboot.toml needs nothing this deep; is this the right file?");
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\n') {
      ++line;
      dots = 0;
    } else if (c == '#') {
      while (i + 1 < text.size() && text[i + 1] != '\n') ++i;
    } else if (c == '"' || c == '\'') {
      // Strings hold dots and brackets that are not structure: skip to the closing quote
      // (triple quotes included), minding escapes in basic strings.
      const bool triple = text.substr(i, 3) == std::string(3, c);
      const std::string close = triple ? std::string(3, c) : std::string(1, c);
      for (i += close.size(); i < text.size() && text.compare(i, close.size(), close) != 0; ++i) {
        if (text[i] == '\n') ++line;
        if (c == '"' && text[i] == '\\') ++i;
      }
      i += close.size() - 1;
    } else if (c == '.') {
      if (++dots > kMaxKeyParts) too_deep("too many dotted parts in one key", kMaxKeyParts);
    } else if (c == '[' || c == '{') {
      dots = 0;
      if (++depth > kMaxNesting) too_deep("arrays or tables nested too deep", kMaxNesting);
    } else if (c == ']' || c == '}') {
      dots = 0;
      if (depth > 0) --depth;
    } else if (c == ',' || c == '=') {
      dots = 0;
    }
  }
}

// Refuses a config owned by someone else (not this user, not root): a quickboot.toml in
// a shared ancestor such as /tmp could otherwise run its rootfs.command as us. The same
// rule as git's safe.directory, with QUICKBOOT_SAFE_DIRECTORIES as the way out.
void check_owner(const fs::path& file, const struct stat& st) {
  if (st.st_uid == ::getuid() || st.st_uid == 0) return;
  const fs::path dir = file.parent_path();
  if (const char* safe = std::getenv("QUICKBOOT_SAFE_DIRECTORIES")) {
    std::string_view list(safe);
    while (!list.empty()) {
      auto colon = list.find(':');
      std::string_view entry = list.substr(0, colon);
      if (entry == "*" || (!entry.empty() && fs::path(entry).lexically_normal() == dir.lexically_normal())) return;
      list = colon == std::string_view::npos ? std::string_view{} : list.substr(colon + 1);
    }
  }
  throw Error(fmt::format("{} is owned by uid {}, not by you: refusing to use a project someone else controls "
                          "(its rootfs.command would run as you)", file.string(), st.st_uid),
              fmt::format("if you trust it, allow it with QUICKBOOT_SAFE_DIRECTORIES={} (colon-separated; * for any), "
                          "or chown it", dir.string()));
}

toml::table parse(const fs::path& file) {
  struct stat st{};
  if (::lstat(file.c_str(), &st) == 0) check_owner(file, st);
  std::string text = read_regular_file(file, kMaxConfigBytes);
  check_shape(file, text);
  try {
    return toml::parse(text, file.string());
  } catch (const toml::parse_error& e) {
    const auto& b = e.source().begin;
    throw Error(fmt::format("{}:{}:{}: {}", file.string(), b.line, b.column, e.description()),
                "see https://toml.io for the syntax");
  }
}

} // namespace

std::optional<fs::path> find_root(const fs::path& start) {
  std::error_code ec;
  fs::path dir = fs::absolute(start, ec).lexically_normal();
  if (ec) return std::nullopt;
  for (;;) {
    // Any entry of that name counts (a FIFO or a directory too): load() then says what
    // is wrong with it instead of the search going on to a parent's config.
    if (fs::exists(fs::symlink_status(dir / config_name, ec))) return dir;
    if (!dir.has_relative_path()) return std::nullopt;
    dir = dir.parent_path();
  }
}

Config load(const fs::path& root_in, const std::string& variant) {
  Config c;
  c.root = fs::absolute(root_in).lexically_normal();
  c.variant = variant;
  std::vector<std::pair<Source, toml::table>> docs;
  for (const char* name : {config_name, local_config_name}) {
    fs::path f = c.root / name;
    std::error_code ec;
    if (name == local_config_name && !fs::exists(f, ec)) continue;
    docs.emplace_back(Source{f, c.root}, parse(f));
    c.files.push_back(f);
  }
  bool found = variant.empty();
  std::vector<std::string> known;
  for (const auto& [src, doc] : docs) {
    apply(src, doc, c, false);
    if (variant.empty()) continue;
    if (const auto* vars = doc["variant"].as_table()) {
      for (auto&& [name, _] : *vars) known.emplace_back(name.str());
      if (const auto* vt = (*vars)[variant].as_table()) {
        apply(src, *vt, c, true);
        found = true;
      }
    }
  }
  if (!found) {
    const auto& [src, doc] = docs.front();
    const toml::node* vars = doc.get("variant");
    int line = vars ? static_cast<int>(vars->source().begin.line) : 1;
    throw Error(fmt::format("{}:{}: variant.{}: no such variant", src.file.string(), line, variant),
                known.empty() ? "this project defines no [variant.NAME] tables"
                              : fmt::format("variants defined: {}", fmt::join(known, ", ")));
  }
  return c;
}

} // namespace qb::project
