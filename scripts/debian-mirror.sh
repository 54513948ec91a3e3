#!/usr/bin/env bash
# Prints the Debian mirror this machine's apt is configured with (for debootstrap), so
# no script names a mirror itself. Reads deb822 sources first, then sources.list.
set -euo pipefail
m=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
if [ -z "$m" ]; then
  m=$(awk '$1 == "deb" && $0 !~ /security/ {for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) {print $i; exit}}' \
      /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null || true)
fi
[ -n "$m" ] || { echo "debian-mirror.sh: no Debian mirror found in the apt sources" >&2; exit 1; }
echo "$m"
