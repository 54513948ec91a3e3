# shellcheck shell=sh
# `quickboot run`, guest side. Sourced by /init after the root is mounted, when the
# per-run archive supplied /qb/run.conf (QB_ARGV: the command, shell-quoted).
# The command runs chrooted into the new root with /proc, /sys, /dev and /run moved
# there; its stdout, stderr and exit status travel on three virtio-serial ports
# (qb.stdout, qb.stderr, qb.status), never mixed with console messages.

. /qb/run.conf

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
qb_run_once() {
    env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=dumb \
        chroot /new_root "$@" </dev/null >&5 2>&6
    echo "exit $?" >&7
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
