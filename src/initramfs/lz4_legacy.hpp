#pragma once
// lz4 in the legacy frame format, the only lz4 framing the kernel's initramfs unpacker
// accepts (libarchive's lz4 filter writes the modern frame, which it refuses).
#include <string>
#include <string_view>

namespace qb::initramfs {

std::string lz4_legacy_compress(std::string_view data);

} // namespace qb::initramfs
