#pragma once
// The bash environment install hooks' build() runs in: mkinitcpio's documented build-time
// functions and variables, written for quickboot. Calls that need the system the image
// is built from (files, binaries, modules) are recorded on fd 3, one tab-separated line
// each, and carried out by the builder; writes into $BUILDROOT happen directly.

namespace qb::initramfs {

// The script; its arguments are NAME:FILE pairs, one per install hook, run in order.
extern const char* const kInstallEnv;

} // namespace qb::initramfs
