#!/usr/bin/env bash
# Stop whatever still runs inside, and unmount whatever is still mounted below, the given directory
# (the Asterisk and Rasa roots under var/). Prints each thing it had to clean: after a clean test run
# or `hotline down` there is nothing, so any line here points at a leak. Always exits 0.
set -uo pipefail
dir="$(realpath "${1:?usage: $0 DIR}")"
prefix="${dir%/}/"

for proc in /proc/[0-9]*; do
  root="$(readlink "$proc/root" 2>/dev/null)" || continue
  case "$root/" in
    "$prefix"*)
      pid="${proc#/proc/}"
      echo "leftover: process $pid ($(tr '\0' ' ' <"$proc/cmdline" 2>/dev/null | cut -c1-80)) in $root; stopping it"
      kill -TERM "$pid" 2>/dev/null ;;
  esac
done
sleep 1
for proc in /proc/[0-9]*; do
  root="$(readlink "$proc/root" 2>/dev/null)" || continue
  case "$root/" in "$prefix"*) kill -KILL "${proc#/proc/}" 2>/dev/null ;; esac
done

# Deepest mount points first; \040 is how /proc/self/mounts writes a space.
awk -v p="$prefix" 'index($2, p) == 1 { gsub(/\\040/, " ", $2); print $2 }' /proc/self/mounts \
  | awk '{ print gsub("/", "/"), $0 }' | sort -rn | cut -d" " -f2- | while IFS= read -r point; do
    echo "leftover: $point still mounted; unmounting it"
    umount "$point" 2>/dev/null || umount -l "$point" 2>/dev/null || echo "leftover: cannot unmount $point"
  done
exit 0
