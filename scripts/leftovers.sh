#!/usr/bin/env bash
# What the test run left running inside, or mounted below, a directory (the Asterisk and Rasa roots
# under var/), and its clean-up:
#   bash scripts/leftovers.sh snapshot DIR > FILE   # before: processes and mounts already there
#   bash scripts/leftovers.sh clean DIR FILE        # after: stop and unmount what is new since FILE
# A hotline that was running before the tests (`hotline up`) is in the snapshot and is left alone.
# After a clean run there is nothing to clean, so any line `clean` prints points at a leak. Exits 0.
set -uo pipefail
mode="${1:?usage: $0 snapshot DIR | clean DIR FILE}"
dir="$(realpath -m "${2:?usage: $0 snapshot DIR | clean DIR FILE}")"
prefix="${dir%/}/"

processes() {  # "pid starttime" of every process whose root directory is below DIR
  local proc root
  for proc in /proc/[0-9]*; do
    root="$(readlink "$proc/root" 2>/dev/null)" || continue
    case "$root/" in
      "$prefix"*) echo "${proc#/proc/} $(cut -d' ' -f22 "$proc/stat" 2>/dev/null)" ;;
    esac
  done
}

mounts() {  # mount points below DIR, deepest first (\040 is how /proc/self/mounts writes a space)
  awk -v p="$prefix" 'index($2, p) == 1 { gsub(/\\040/, " ", $2); print $2 }' /proc/self/mounts \
    | awk '{ print gsub("/", "/"), $0 }' | sort -rn | cut -d" " -f2-
}

case "$mode" in
  snapshot)
    processes | sed 's/^/process /'
    mounts | sed 's/^/mount /'
    ;;
  clean)
    before="${3:?usage: $0 clean DIR FILE}"
    new_processes() { processes | while read -r entry; do grep -qxF "process $entry" "$before" || echo "$entry"; done; }
    for signal in TERM KILL; do
      new_processes | while read -r pid _; do
        echo "leftover: process $pid ($(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | cut -c1-80)); SIG$signal"
        kill "-$signal" "$pid" 2>/dev/null
      done
      sleep 1
    done
    mounts | while IFS= read -r point; do
      grep -qxF "mount $point" "$before" && continue
      echo "leftover: $point still mounted; unmounting it"
      umount "$point" 2>/dev/null || umount -l "$point" 2>/dev/null || echo "leftover: cannot unmount $point"
    done
    ;;
  *) echo "usage: $0 snapshot DIR | clean DIR FILE" >&2 ;;
esac
exit 0
