# shellcheck shell=sh
# `quickboot run`, guest side. Sourced by /init after the root is mounted, when the
# per-run archive supplied /qb/run.conf (QB_ARGV: the command, shell-quoted).
# The command runs chrooted into the new root with /proc, /sys, /dev and /run moved
# there; its stdout, stderr and exit status travel on three virtio-serial ports
# (qb.stdout, qb.stderr, qb.status), never mixed with console messages.

. /qb/run.conf
_qb_path=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# The command must be the rootfs's own program. busybox's chroot (like its env and its
# shell) runs its own applet for a bare name that is one (`ls`, `sh`, `modprobe`), so
# the name is looked up here, in the rootfs's PATH, and handed over as an absolute
# path. Sets _qb_cmd (no subshell for a plain file: each process costs milliseconds
# under TCG).
qb_find_command() {
    _qb_cmd=$1
    case $1 in
        */*) return 0 ;;
    esac
    _ifs=$IFS; IFS=:
    for _d in $_qb_path; do
        # -L first: test -f follows a link in the initramfs's namespace, not the rootfs's.
        if { [ -L "/new_root$_d/$1" ] && qb_link_resolves "$_d/$1"; } ||
            { [ ! -L "/new_root$_d/$1" ] && [ -f "/new_root$_d/$1" ] && [ -x "/new_root$_d/$1" ]; }; then
            IFS=$_ifs; _qb_cmd=$_d/$1; return 0
        fi
    done
    IFS=$_ifs
    return 1
}

# A symlink in the rootfs is followed with the rootfs as `/`: an absolute target
# (Debian's alternatives: /usr/bin/awk -> /etc/alternatives/awk -> /usr/bin/mawk) only
# resolves there. True when the chain ends at an executable file; a dangling link is
# "not found" (exit 127 and the message), not an exec error from chroot.
qb_link_resolves() {
    _p=$1; _hops=0
    while [ -L "/new_root$_p" ]; do
        _hops=$((_hops + 1))
        [ "$_hops" -le 40 ] || return 1
        _t=$(readlink "/new_root$_p") || return 1
        case $_t in
            /*) _p=$_t ;;
            *) _p=${_p%/*}/$_t ;;
        esac
    done
    [ -f "/new_root$_p" ] && [ -x "/new_root$_p" ]
}

qb_not_found() {
    echo "quickboot run: $1: command not found in the root filesystem (PATH $_qb_path)"
}

# `run --boot`: the rootfs's init (systemd) starts as usual; a unit in /run (the tmpfs
# that moves into the new root, so a --writable root stays untouched) runs the command
# once the boot finished, reports on the ports and reboots (QEMU exits: -no-reboot);
# should the script itself fail, the unit's FailureAction reboots.
# Type=simple: the unit's start job ends at once, so the boot can finish (and
# `systemctl is-system-running` say running) while the command waits for that.
if [ "$QB_BOOT" = 1 ]; then
    qb_wait_ports stdout stderr status || fatal "the virtio-serial ports of quickboot run did not appear"
    eval "set -- $QB_ARGV"
    if ! qb_find_command "$1"; then
        qb_not_found "$1" >"$qb_dev_stderr"
        echo "exit 127" >"$qb_dev_status"
        poweroff_now
    fi
    mkdir -p /run/qb /run/systemd/system/multi-user.target.wants
    cp /usr/bin/busybox /run/qb/busybox
    {
        cat /qb/run.conf
        _q="'\\''"
        echo "qb_cmd='${_qb_cmd//\'/$_q}'"
        echo "qb_path=$_qb_path"
        echo "qb_dev_stdout=$qb_dev_stdout qb_dev_stderr=$qb_dev_stderr qb_dev_status=$qb_dev_status"
    } >/run/qb/run.conf
    cp /qb/boot-run.sh /run/qb/boot-run.sh
    cat >/run/systemd/system/quickboot-run.service <<EOF_UNIT
[Unit]
Description=quickboot run --boot: the command, once the system is up
After=multi-user.target

[Service]
Type=simple
ExecStart=/run/qb/busybox sh /run/qb/boot-run.sh
StandardInput=null
StandardOutput=journal
FailureAction=reboot-immediate
EOF_UNIT
    ln -sf ../quickboot-run.service /run/systemd/system/multi-user.target.wants/quickboot-run.service
    return 0
fi

_ports="stdout stderr status"
[ "$QB_WATCH" = 1 ] && _ports="$_ports control"
qb_wait_ports $_ports || fatal "the virtio-serial ports of quickboot run did not appear"
exec 5>"$qb_dev_stdout" 6>"$qb_dev_stderr" 7>"$qb_dev_status"
if [ "$QB_WATCH" = 1 ]; then
    # Opened before /proc moves into the new root.
    exec 8<"$qb_dev_control" 9>/proc/sys/vm/drop_caches
fi

move_api_mounts /new_root
eval "set -- $QB_ARGV"

# Runs the command once (looked up afresh: under watch the host may have added it) and
# reports its status; 127 with a message when the rootfs has no such command.
qb_run_once() {
    if qb_find_command "$1"; then
        shift
        env -i PATH=$_qb_path HOME=/root TERM=dumb chroot /new_root "$_qb_cmd" "$@" </dev/null >&5 2>&6
        echo "exit $?" >&7
    else
        qb_not_found "$1" >&6
        echo "exit 127" >&7
    fi
}
qb_run_once "$@"
# `quickboot watch --run`: the guest stays up and runs the command again on each
# "run" line the host sends on qb.control (files changed, already visible over 9p).
if [ "$QB_WATCH" = 1 ]; then
    while read -r _req <&8; do
        # The overlay caches lookups of the 9p layer under it: new and deleted host
        # files show only once those dentries are dropped.
        echo 2 >&9
        [ "$_req" = run ] && qb_run_once "$@"
    done
fi
exec 5>&- 6>&- 7>&-
poweroff_now
