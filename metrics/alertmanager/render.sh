#!/bin/sh
# Write the Alertmanager configuration with the webhook URL from the
# environment, then optionally run a command (Alertmanager itself):
#
#   ALERT_WEBHOOK_URL=http://127.0.0.1:9095/alerts \
#     sh render.sh OUTPUT [-- COMMAND [ARGS...]]
#
# The template is alertmanager.yml next to this script (or
# ALERTMANAGER_TEMPLATE). POSIX sh and sed only: it runs natively, in the
# official Alertmanager image (busybox) and in Kubernetes alike.
set -eu

here=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
template=${ALERTMANAGER_TEMPLATE:-$here/alertmanager.yml}

if [ $# -lt 1 ] || [ "$1" = -- ]; then
    echo "usage: render.sh OUTPUT [-- COMMAND [ARGS...]]" >&2
    exit 2
fi
output=$1
shift

url=${ALERT_WEBHOOK_URL:-}
case $url in
    http://?* | https://?*) ;;
    *)
        echo "render.sh: ALERT_WEBHOOK_URL must be an http:// or https:// URL (got '$url')" >&2
        exit 1
        ;;
esac
# The URL goes into a single-quoted YAML string on one line.
case $url in
    *"'"* | *" "* | *"	"* | *'
'*)
        echo "render.sh: ALERT_WEBHOOK_URL must not contain quotes, blanks or newlines" >&2
        exit 1
        ;;
esac

# Escape what is special in a sed replacement: \ & and the | delimiter.
replacement=$(printf '%s\n' "$url" | sed -e 's/[\\&|]/\\&/g')

mkdir -p -- "$(dirname -- "$output")"
sed -e 's|\${ALERT_WEBHOOK_URL}|'"$replacement"'|g' -- "$template" >"$output.tmp"
if grep -q '\${ALERT_WEBHOOK_URL}' -- "$output.tmp"; then
    echo "render.sh: placeholder left in $output" >&2
    rm -f -- "$output.tmp"
    exit 1
fi
mv -f -- "$output.tmp" "$output"

if [ $# -gt 0 ]; then
    if [ "$1" != -- ]; then
        echo "usage: render.sh OUTPUT [-- COMMAND [ARGS...]]" >&2
        exit 2
    fi
    shift
    exec "$@"
fi
