#!/bin/sh
# Start rsyslogd in the foreground with rsyslog.conf next to this script.
#
# Every setting comes from the environment; unset ones get the native run's
# values (paths under var/ of the repository). The container image sets its
# own in the Dockerfile.
#
#   SYSLOG_BIND_ADDRESS   127.0.0.1          UDP address to listen on
#   SYSLOG_PORT           5140               UDP port
#   SYSLOG_FILE           <repo>/var/log/syslog
#   SYSLOG_WORKDIR        <repo>/var/rsyslog
#   SYSLOG_ROTATE_BYTES   5242880            rotate at about 5 MB, keeping <file>.1
#   SYSLOG_HEALTH_FILTER  on                 off: keep health-check lines
#
# Extra arguments go to rsyslogd (e.g. -N1 to only check the configuration).
set -eu

here=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
root=$(dirname -- "$here")

: "${SYSLOG_BIND_ADDRESS:=127.0.0.1}"
: "${SYSLOG_PORT:=5140}"
: "${SYSLOG_FILE:=$root/var/log/syslog}"
: "${SYSLOG_WORKDIR:=$root/var/rsyslog}"
: "${SYSLOG_ROTATE_BYTES:=5242880}"
: "${SYSLOG_ROTATE_COMMAND:=$here/rotate.sh}"
: "${SYSLOG_HEALTH_FILTER:=on}"

# rsyslog wants absolute paths; relative ones are taken from the current folder.
absolute() {
    case $1 in
        /*) printf '%s\n' "$1" ;;
        *) printf '%s/%s\n' "$PWD" "$1" ;;
    esac
}
SYSLOG_FILE=$(absolute "$SYSLOG_FILE")
SYSLOG_WORKDIR=$(absolute "$SYSLOG_WORKDIR")

case $SYSLOG_HEALTH_FILTER in
    on | true | yes | 1) SYSLOG_FILTERS=$here/filters.d/health.conf ;;
    off | false | no | 0) SYSLOG_FILTERS= ;;
    *)
        echo "run-rsyslog.sh: SYSLOG_HEALTH_FILTER must be on or off, not '$SYSLOG_HEALTH_FILTER'" >&2
        exit 2
        ;;
esac

export SYSLOG_BIND_ADDRESS SYSLOG_PORT SYSLOG_FILE SYSLOG_WORKDIR SYSLOG_ROTATE_BYTES \
    SYSLOG_ROTATE_COMMAND SYSLOG_FILTERS

mkdir -p -- "$(dirname -- "$SYSLOG_FILE")" "$SYSLOG_WORKDIR"
# frontail can follow the file from the start, before the first message.
touch -- "$SYSLOG_FILE"

PATH=$PATH:/usr/sbin:/sbin
exec "${RSYSLOGD:-rsyslogd}" -n -f "$here/rsyslog.conf" -i "$SYSLOG_WORKDIR/rsyslogd.pid" "$@"
