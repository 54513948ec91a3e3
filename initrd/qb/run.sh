# shellcheck shell=sh
# `quickboot run`, guest side. Sourced by /init after the root is mounted, when the
# per-run archive supplied /qb/run.conf (QB_ARGV: the command, shell-quoted).
# The command runs chrooted into the new root with /proc, /sys, /dev and /run moved
# there; its stdout, stderr and exit status travel on three virtio-serial ports
# (qb.stdout, qb.stderr, qb.status), never mixed with console messages.

. /qb/run.conf

load_modules virtio_console
_tries=0
until _out=$(qb_port qb.stdout) && _err=$(qb_port qb.stderr) && _st=$(qb_port qb.status) &&
      [ -c "$_out" ] && [ -c "$_err" ] && [ -c "$_st" ] &&
      { [ "$QB_WATCH" != 1 ] || { _ctl=$(qb_port qb.control) && [ -c "$_ctl" ]; }; }; do
    _tries=$((_tries + 1))
    [ $_tries -gt 200 ] && fatal "the virtio-serial ports of quickboot run did not appear"
    sleep 0.05
done
exec 5>"$_out" 6>"$_err" 7>"$_st"
if [ "$QB_WATCH" = 1 ]; then
    # Opened before /proc moves into the new root.
    exec 8<"$_ctl" 9>/proc/sys/vm/drop_caches
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
