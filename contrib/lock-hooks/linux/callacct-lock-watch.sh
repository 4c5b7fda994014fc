#!/bin/sh
# Follow systemd-logind's Lock and Unlock signals for this session (screen lockers send them,
# and `loginctl lock-session` does) and tell callacct; run by callacct-lock.service.
set -eu
HOOK="$(dirname "$0")/callacct-lock.sh"
SESSION="${XDG_SESSION_ID:-$(loginctl show-user "$(id -u)" -p Display --value)}"
OBJECT="$(busctl --system call org.freedesktop.login1 /org/freedesktop/login1 \
  org.freedesktop.login1.Manager GetSession s "$SESSION" | cut -d'"' -f2)"
gdbus monitor --system --dest org.freedesktop.login1 --object-path "$OBJECT" |
while read -r line; do
  case "$line" in
    *"org.freedesktop.login1.Session.Lock ()"*) "$HOOK" lock ;;
    *"org.freedesktop.login1.Session.Unlock ()"*) "$HOOK" unlock ;;
  esac
done
