# shellcheck shell=bash
# The one way the scripts start the emulated tenant (cmd/o365-emulator). Source it, then:
#   emulator_start DIR SEED [o365-emulator serve flags...]
#       builds the emulator into DIR, starts it on a free loopback port with its CA certificate
#       in DIR/ca.pem, its info file in DIR/emulator.json and its log in DIR/emulator.log, and
#       returns once it answers. Sets EMULATOR (the binary), EMULATOR_PID, EMULATOR_INFO_FILE,
#       and, from `o365-emulator info -format env`, EMULATOR_URL, EMULATOR_CA_FILE,
#       EMULATOR_TENANT_ID, EMULATOR_CONTROL_TOKEN and EMULATOR_PID.
#   emulator_ctl METHOD PATH [JSON]   the control API; prints the body, fails on non-2xx
#   emulator_stop                     stops it (call it from the script's EXIT trap)
# Requires the caller's working directory to be the repository root.

EMULATOR="" EMULATOR_PID="" EMULATOR_INFO_FILE=""

emulator_start() {
  local dir=$1 seed=$2
  shift 2
  mkdir -p "$dir"
  go build -o "$dir/o365-emulator" ./cmd/o365-emulator
  EMULATOR="$dir/o365-emulator" EMULATOR_INFO_FILE="$dir/emulator.json"
  rm -f "$EMULATOR_INFO_FILE"
  "$EMULATOR" serve -seed "$seed" -addr 127.0.0.1:0 -ca-file "$dir/ca.pem" \
    -info-file "$EMULATOR_INFO_FILE" "$@" >"$dir/emulator.log" 2>&1 &
  EMULATOR_PID=$!
  if ! "$EMULATOR" wait -info-file "$EMULATOR_INFO_FILE" -pid "$EMULATOR_PID" -timeout 20s; then
    cat "$dir/emulator.log" >&2
    echo "the emulated tenant did not start" >&2
    return 1
  fi
  eval "$("$EMULATOR" info -info-file "$EMULATOR_INFO_FILE" -format env)"
}

emulator_ctl() {
  "$EMULATOR" ctl -info-file "$EMULATOR_INFO_FILE" "$@"
}

emulator_stop() {
  if [[ -n $EMULATOR_PID ]] && kill -0 "$EMULATOR_PID" 2>/dev/null; then
    kill "$EMULATOR_PID" 2>/dev/null || true
    wait "$EMULATOR_PID" 2>/dev/null || true
  fi
  EMULATOR_PID=""
}
