#!/usr/bin/env bash
# Stop the local stack (idempotent: stopping a stopped stack is fine).
#   npm run stack:down                 all parts, data kept in .stack/
#   bash scripts/stack/down.sh kafka   only the parts named
#   bash scripts/stack/down.sh --purge stop everything and delete .stack/ (a fresh stack next time)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

purge=false
parts=()
for a in "$@"; do
  case $a in
    --purge) purge=true ;;
    *) [[ " ${ALL_PARTS[*]} " == *" $a "* ]] || die "unknown part '$a' (parts: ${ALL_PARTS[*]})"; parts+=("$a") ;;
  esac
done
((${#parts[@]})) || parts=("${ALL_PARTS[@]}")
if $purge && ((${#parts[@]} != ${#ALL_PARTS[@]})); then die "--purge stops every part; name no parts with it"; fi

[[ -d $STACK_DIR ]] || { say "stack is down (no .stack/)"; exit 0; }
mkdir -p "$RUN_DIR"
exec 9>"$LOCK_FILE"
flock -w 900 9 || die "another stack:up/stack:down is still running (lock $LOCK_FILE)"

# Stop in parallel; each waits up to 30 s for its process, then SIGKILL.
stop_part() {
  local p=$1 pid
  if ! pid=$(part_pid "$p"); then
    rm -f "$(pid_file "$p")"
    say "$p: not running"
    return 0
  fi
  if [[ $p == postgres ]]; then
    # "fast" shutdown; a logical walsender whose client does not answer can hold it up,
    # then "immediate" (SIGQUIT: the postmaster takes its children down; crash recovery on next start).
    stop_pid "$p" "$pid" INT:20 QUIT:10
  else
    stop_pid "$p" "$pid" TERM:30
  fi
  rm -f "$(pid_file "$p")"
  say "$p: stopped (pid $pid)"
}
pids=()
for p in "${parts[@]}"; do
  stop_part "$p" &
  pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid"; done

if $purge; then
  # The PostgreSQL files may live outside the checkout (see up.sh); remove the real dir too.
  if [[ -L $STACK_DIR/pg ]]; then rm -rf "$(readlink -f "$STACK_DIR/pg")"; fi
  find "$STACK_DIR" -mindepth 1 -maxdepth 1 ! -name stack.lock -exec rm -rf {} +
  say "purged .stack/"
fi
