#pragma once
// fs.json, version 3, as v86 reads it (docs: shared/docs/v86-format.md): compact, the
// children of every directory sorted bytewise by name, non-ASCII escaped as \uXXXX,
// no trailing newline, so the same tree always gives the same bytes.
#include <functional>
#include <string>
#include <string_view>

#include "v86/tree.hpp"

namespace qb::v86 {

// True when `s` is valid UTF-8 (no overlongs, no surrogates, <= U+10FFFF).
bool valid_utf8(std::string_view s);

// Appends `s` (valid UTF-8) as a JSON string literal, escaping like Python's json.dumps.
void append_json_string(std::string& out, std::string_view s);

// Sorts every directory's children (and tree.root) bytewise by name.
void sort_children(Tree& tree);

// The fs.json text; `blob_name` maps a hashed regular file to its blob file name.
std::string render_fs_json(const Tree& tree, const std::function<std::string(const Entry&)>& blob_name);
// The same; `append_blob_name` appends the name to the output directly.
std::string render_fs_json(const Tree& tree, const std::function<void(const Entry&, std::string&)>& append_blob_name);

} // namespace qb::v86
