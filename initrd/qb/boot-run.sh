# shellcheck shell=sh
# `quickboot run --boot`, inside the booted system: run by the quickboot-run.service unit
# that /qb/run.sh wrote into /run/systemd/system, with the initramfs's busybox (copied
# to /run/qb) so it needs nothing from the rootfs but systemctl. Waits until the boot
# finished, runs the command (the rootfs's program, found by /qb/run.sh), prints the
# failed units when the system is degraded, reports the status on qb.status and reboots,
# which ends QEMU.

. /run/qb/run.conf
eval "set -- $QB_ARGV"
shift
# Until the boot transaction is done the state is "starting"; --wait returns once it
# is running, degraded or stopping.
systemctl is-system-running --wait >/dev/null 2>&1
env -i PATH="$qb_path" HOME=/root TERM=dumb "$qb_cmd" "$@" </dev/null >"$qb_dev_stdout" 2>"$qb_dev_stderr"
_st=$?
if [ "$(systemctl is-system-running 2>/dev/null)" = degraded ]; then
    {
        echo "quickboot run --boot: the system is degraded; failed units:"
        systemctl --failed --no-legend --plain --no-pager 2>&1
    } >"$qb_dev_stderr"
fi
echo "exit $_st" >"$qb_dev_status"
# As the runtime's own poweroff: reboot(2) at once (QEMU runs with -no-reboot, so this
# ends it); nothing is lost, the root is an overlay or a synchronous 9p mount.
reboot -f
