#!/bin/sh
# Any backend that can make an HTTP call can publish, no database needed:
#   NOTIFIER_URL=http://127.0.0.1:8080 ./publish.sh
# With --publish-key set on notifierd, also pass NOTIFIER_PUBLISH_KEY.
set -eu
url=${NOTIFIER_URL:-http://127.0.0.1:8080}
auth=${NOTIFIER_PUBLISH_KEY:+Authorization: Bearer $NOTIFIER_PUBLISH_KEY}
curl --fail-with-body -sS -X POST "$url/publish" \
  -H 'Content-Type: application/json' ${auth:+-H "$auth"} \
  -d '[{"collection":"forums","action":"update","id":"1","data":{"name":"from curl"}},
       {"collection":"posts","action":"create","id":42}]'
echo
