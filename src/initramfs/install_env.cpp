#include "initramfs/install_env.hpp"

namespace qb::initramfs {

// Semantics follow mkinitcpio's man page and `functions` (read for behaviour only, and
// checked against the real mkinitcpio by tests/boot/initcpio_oracle.sh): build()'s
// return status does not matter, nor does an `error` call by itself; a failing add_*
// call does, and so does a hook raising _builderrors. Messages are formatted as
// mkinitcpio formats them, on stderr.
const char* const kInstallEnv = R"SH(
shopt -s extglob
# Each record is preceded by where the hook made the call: the innermost frame in a
# hook file (this script's own functions have no file), for error messages.
_rec() {
    local IFS=$'\t' i
    for ((i = 1; i < ${#BASH_SOURCE[@]}; i++)); do
        [[ ${BASH_SOURCE[i]} == /* ]] && { printf 'at\t%s:%s\n' "${BASH_SOURCE[i]}" "${BASH_LINENO[i - 1]}" >&3; break; }
    done
    printf '%s\n' "$*" >&3
}
plain()   { local m=$1; shift; printf "    $m\n" "$@" >&2; }
quiet()   { :; }
msg()     { local m=$1; shift; printf "==> $m\n" "$@" >&2; }
msg2()    { local m=$1; shift; printf "  -> $m\n" "$@" >&2; }
warning() { local m=$1; shift; printf "==> WARNING: $m\n" "$@" >&2; }
error()   { local m=$1; shift; printf "==> ERROR: $m\n" "$@" >&2; return 1; }
declare -i _builderrors=0
# A failed add_* call: its message, and the build fails.
_qb_bad() { error "$@"; _builderrors+=1; return 1; }
map() { local f=$1 a r=0; shift; for a in "$@"; do "$f" "$a" || r=1; done; return $r; }
in_array() { local n=$1 x; shift; for x in "$@"; do [[ $x == "$n" ]] && return 0; done; return 1; }
# A path inside the image: absolute, no `..` (it would leave $BUILDROOT).
_qb_image_path() {
    [[ $1 == /* && /$1/ != */../* ]] && return 0
    _qb_bad "invalid path in the image: '%s' (absolute, without '..')" "$1"
}
add_module() { local m; for m in "$@"; do [[ $m == -* || -z $m ]] || _rec module "$m"; done; }
# Hooks ask modprobe about the image's kernel (autodetect: -R), not the host's.
modprobe() { command modprobe -d "$_optmoduleroot" -S "$KERNELVERSION" "$@"; }
# The autodetected modules go along: add_checked_modules keeps only those, when any.
_qb_modlist() {
    local kind=$1 filters=() OPTIND=1 flag; shift
    while getopts ':f:' flag; do [[ $flag == f ]] && filters+=("$OPTARG"); done
    shift $((OPTIND - 1))
    local IFS=$'\x1f'; _rec "$kind" "${filters[*]}" "$*" "${!_autodetect_cache[*]}"
}
add_all_modules()     { _qb_modlist allmods "$@"; }
add_checked_modules() { _qb_modlist checkedmods "$@"; }
# Modules that export a symbol (an ERE), under =SUBDIR of kernel/ or an absolute directory.
_qb_symmods() {
    local kind=$1 sym=$2; shift 2
    local IFS=$'\x1f'; _rec "$kind" "$sym" "$*" "${!_autodetect_cache[*]}"
}
add_all_modules_from_symbol()     { _qb_symmods symmods "$@"; }
add_checked_modules_from_symbol() { _qb_symmods checkedsymmods "$@"; }
add_dir_early() {
    [[ -n $1 && $1 == /?* ]] || return 1
    _qb_image_path "$1" || return 1
    _rec earlydir "$1" "${2:-755}"
}
add_dir() {
    [[ -n $1 && $1 == /?* ]] || return 1
    _qb_image_path "$1" || return 1
    _rec dir "$1" "${2:-755}"
}
add_symlink() {
    (( $# == 1 || $# == 2 )) || return 1
    _qb_image_path "$1" || return 1
    _rec symlink "$1" "${2:-}"
}
add_file() {
    local src=$1 dest=${2:-$1} mode=$3
    [[ -n $src ]] || { _qb_bad "add_file: no file given"; return; }
    [[ -n $dest ]] || dest=$src
    if [[ $src == - ]]; then
        # From stdin: written into $BUILDROOT now (the builder packs it).
        [[ $dest != - && $dest != */ ]] || { _qb_bad "no destination file specified for: '%s'" "$src"; return; }
        [[ -n $mode ]] || { _qb_bad "no file mode specified for: '%s'" "$dest"; return; }
        _qb_image_path "$dest" || return 1
        mkdir -p "$BUILDROOT${dest%/*}" && cat >"$BUILDROOT$dest" && chmod "$mode" "$BUILDROOT$dest"
        return
    fi
    [[ $dest == /* ]] || { _qb_bad "add_file %s: the destination must be an absolute path" "$src"; return; }
    _qb_image_path "$dest" || return 1
    _rec file "$src" "$dest" "$mode"
}
add_file_early() {
    local src=$1 dest=${2:-$1} mode=$3
    _qb_image_path "$dest" || return 1
    _rec early "$src" "$dest" "$mode"
}
add_binary() {
    [[ -n $1 ]] || { _qb_bad "add_binary: no binary given"; return; }
    local dest=${2:-}
    [[ -z $dest ]] || _qb_image_path "$dest" || return 1
    _rec binary "$1" "$dest" "${3:-}"
}
add_initcpio_binary() { add_binary "/usr/lib/initcpio/$1" "${2:-}" "${3:-}"; }
add_full_dir() { [[ -n $1 ]] || return 1; _rec fulldir "$1" "${2:-*}" "${3:-}"; }
add_firmware() { local f; for f in "$@"; do _rec firmware "$f"; done; }
add_udev_rule() { [[ -n $1 ]] || return 1; _rec udev "$1"; }
add_runscript() { _rec runscript "${QB_HOOK}"; }
# add_systemd_unit and add_systemd_drop_in are not defined here: as with mkinitcpio, the
# systemd hook brings them, and hooks test `declare -F add_systemd_unit` to learn whether
# the image is systemd-based.
_qb_run_hook() {
    QB_HOOK=$1
    _rec hook "$QB_HOOK"
    unset -f build
    # `.` returns non-zero on a syntax error (bash has printed file and line).
    if ! . "$2"; then _rec fail "$QB_HOOK" "cannot be read (syntax error?)"; return; fi
    declare -F build >/dev/null || { _rec fail "$QB_HOOK" "has no build() function"; return; }
    # The image boots in quickboot's QEMU guest: autodetect finds that machine's
    # devices (given by quickboot), not the host's, and the root is the 9p share.
    if [[ $QB_HOOK == autodetect && ${QB_GUEST_AUTODETECT+set} ]]; then
        build() {
            declare -gri mkinitcpio_autodetect=1
            local m
            for m in "${QB_GUEST_AUTODETECT[@]}"; do _autodetect_cache["$m"]=1; done
            rootfstype=9p
            quiet "caching %d modules of quickboot's guest devices" "${#_autodetect_cache[*]}"
        }
    fi
    _builderrors=0
    build
    (( _builderrors == 0 )) || _rec fail "$QB_HOOK" "reported $_builderrors error(s)"
}
# One shell for all, in order, as mkinitcpio runs them: hooks hand state to later ones
# (autodetect's module list and root filesystem type, the systemd hook's functions).
for _spec in "$@"; do
    _qb_run_hook "${_spec%%:*}" "${_spec#*:}"
done
_rec done
)SH";

} // namespace qb::initramfs
