#!/usr/bin/env bash
# The README's REST walk with curl, against a started platform: launch (with an Idempotency-Key), wait for
# running, chat through /v1, read the metering, stop. Needs QDZ_URL and QDZ_API_KEY (a key with scope 'full'
# on an account with credit); QDZ_WALK_MODEL and QDZ_WALK_GPU choose the model and GPU. Prints each answer.
set -euo pipefail
: "${QDZ_URL:?set QDZ_URL, e.g. http://localhost:3000}"
: "${QDZ_API_KEY:?set QDZ_API_KEY to a key with scope full}"
model="${QDZ_WALK_MODEL:-Qwen/Qwen2.5-0.5B-Instruct}"
gpu="${QDZ_WALK_GPU:-L4}"

# jq reads the answers; without it, node reads the same paths (.a.b[0].c).
field() {
  if command -v jq >/dev/null 2>&1; then
    jq -r "$1"
  else
    node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{let v=JSON.parse(s);for(const k of process.argv[1].replace(/\[(\d+)\]/g,".$1").split(".").filter(Boolean))v=v?.[k];console.log(v===null||v===undefined?"null":typeof v==="object"?JSON.stringify(v):v)})' "$1"
  fi
}
api() { curl -sS --fail-with-body -H "Authorization: Bearer $QDZ_API_KEY" -H "Content-Type: application/json" "$@"; }

# 1. Launch. A retry with the same Idempotency-Key answers the same instance, never a second one.
key="walk-$(date +%s)-$$"
launched=$(api -X POST "$QDZ_URL/v1/instances" -H "Idempotency-Key: $key" \
  -d "{\"runtimeId\":\"reference\",\"hfRepo\":\"$model\",\"gpuPreferences\":[\"$gpu\"]}")
echo "launched: $launched"
id=$(echo "$launched" | field .id)
model_name=$(echo "$launched" | field .servingName)

# 2. Wait for running.
for _ in $(seq 1 120); do
  state=$(api "$QDZ_URL/v1/instances/$id" | field .state)
  echo "state: $state"
  [ "$state" = running ] && break
  case "$state" in failed | non_bootstrap | stopped) echo "walk: the instance ended $state" >&2; exit 1 ;; esac
  sleep 1
done
[ "$state" = running ] || { echo "walk: not running after 120 s" >&2; exit 1; }

# 3. Chat, through the OpenAI-compatible /v1 with the instance's serving name as the model.
chat=$(api -X POST "$QDZ_URL/v1/chat/completions" \
  -d "{\"model\":\"$model_name\",\"messages\":[{\"role\":\"user\",\"content\":\"Say hello.\"}],\"max_tokens\":16}")
echo "chat: $(echo "$chat" | field '.choices[0].message.content')"

# 4. Metering so far: billed seconds, rate, charge, the ledger's debits (the body of `qdz instances show --metered`).
metered=$(api "$QDZ_URL/v1/instances/$id/metered")
echo "metered: $metered"
echo "$metered" | field .seconds_billed >/dev/null

# 5. Stop: billing ends now; the pod is released by a job.
stopped=$(api -X POST "$QDZ_URL/v1/instances/$id/stop")
echo "stopped: $(echo "$stopped" | field .state)"
echo "walk: ok $id"
