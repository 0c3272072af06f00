#!/usr/bin/env bash
# Throughput of the CUDA backend against the number of replicas in one batch.
#
#   tools/bench_scaling.sh [config.json] [replica counts...]
#
# Runs `vitrify bench --json --backend cuda` on the configuration with its temperature list
# reduced to the first temperature and copies_per_temperature set to each replica count
# (default 1 8 32 128 512), and prints one table row per count. Environment: VITRIFY (the
# binary, default build/vitrify), BACKEND (default cuda), and STEPS, WARMUP, BLOCKS, KERNEL
# (passed to vitrify bench as --steps, --warmup, --blocks, --kernel when set; otherwise its
# defaults apply).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
config="${1:-$root/inputs/bench-binary3d-batch128.json}"
shift || true
counts=("$@")
if [ ${#counts[@]} -eq 0 ]; then counts=(1 8 32 128 512); fi
vitrify="${VITRIFY:-$root/build/vitrify}"
backend="${BACKEND:-cuda}"
options=()
[ -n "${STEPS:-}" ] && options+=(--steps "$STEPS")
[ -n "${WARMUP:-}" ] && options+=(--warmup "$WARMUP")
[ -n "${BLOCKS:-}" ] && options+=(--blocks "$BLOCKS")
[ -n "${KERNEL:-}" ] && options+=(--kernel "$KERNEL")

[ -x "$vitrify" ] || { echo "bench_scaling.sh: no vitrify binary at $vitrify (set VITRIFY)" >&2; exit 2; }
[ -f "$config" ] || { echo "bench_scaling.sh: no configuration $config" >&2; exit 2; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "# vitrify bench scaling: $(basename "$config"), backend $backend, options: ${options[*]:-defaults}"
printf '%-9s %-12s %-16s %-16s %-12s %s\n' replicas steps/s replica-steps/s particle-steps/s builds/r-step device
for r in "${counts[@]}"; do
  cfg="$work/replicas-$r.json"
  python3 - "$config" "$cfg" "$r" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["temperatures"] = c["temperatures"][:1]
c["copies_per_temperature"] = int(sys.argv[3])
c.pop("comment", None)
json.dump(c, open(sys.argv[2], "w"), indent=2)
PY
  if ! "$vitrify" bench --json --backend "$backend" ${options[@]+"${options[@]}"} "$cfg" \
      > "$work/out-$r.json" 2> "$work/err-$r.txt"; then
    printf '%-9s failed: %s\n' "$r" "$(tail -n 1 "$work/err-$r.txt")"
    continue
  fi
  python3 - "$work/out-$r.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
print("%-9d %-12.1f %-16.4g %-16.4g %-12.4f %s" % (
    j["replicas"], j["steps_per_second"], j["replica_steps_per_second"],
    j["particle_steps_per_second"], j["neighbor_builds_per_replica_step"], j["device"]))
PY
done
