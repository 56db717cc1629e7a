#!/bin/sh
# Rotation for rsyslog (rotation.sizeLimitCommand in rsyslog.conf): keep the
# previous file as <file>.1 instead of deleting everything. rsyslog runs this
# without arguments and reopens SYSLOG_FILE on its next write; frontail
# follows the new file. If this fails, rsyslog turns the size limit off and
# drops messages, so it must not fail for an ordinary reason.
set -eu
: "${SYSLOG_FILE:?SYSLOG_FILE is not set}"
exec mv -f -- "$SYSLOG_FILE" "$SYSLOG_FILE.1"
