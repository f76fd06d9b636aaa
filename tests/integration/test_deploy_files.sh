#!/usr/bin/env bash
# test_deploy_files.sh: the files of deploy/ are valid for the tools that read
# them, and say what deploy/README.md says they do.
#
#  - prometheus.yml passes `promtool check config` with no warning (its
#    file_sd list, probe-targets.yml, is found and parses);
#  - Prometheus' own relabeling (`promtool check service-discovery`, offline:
#    nothing is scraped) puts every target of probe-targets.yml on exactly
#    one shard job, the one md5(target) mod 3 names, with instance = target,
#    module = its group's module, and the scrape URL
#    portprobe-K:9115/probe?module=M&target=T of that shard's portprobe;
#  - portprobe.service passes `systemd-analyze verify` and an offline
#    `systemd-analyze security` rates it "OK" (when systemd-analyze exists);
#  - compose.yaml parses as YAML with the service's published port, mounts,
#    volume and restart policy; the Dockerfile's runtime packages cover the
#    libraries the built binary links (on Debian 12, where names match);
#  - portprobe.yaml is a configuration portprobe accepts.
# Exits 77 (skipped) when promtool or python3 with PyYAML is missing.
set -u
src=${PP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
pp=${PORTPROBE:-}
deploy=$src/deploy
failed=0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

fail() {
	printf 'FAIL %s\n' "$*" >&2
	failed=1
}
note() { printf 'note: %s\n' "$*"; }

command -v promtool >/dev/null || { echo "SKIP: promtool missing (Debian package prometheus)"; exit 77; }
python3 -c 'import yaml' 2>/dev/null || { echo "SKIP: python3 with PyYAML missing"; exit 77; }

# ---------------------------------------------------------------- prometheus.yml
out=$(promtool check config "$deploy/prometheus.yml" 2>&1) || fail "promtool check config: $out"
case $out in
*WARNING*) fail "promtool warns: $out" ;;
esac

# expected_shards: "TARGET MODULE SHARD" for every target of probe-targets.yml,
# SHARD computed as Prometheus' hashmod does (last 8 bytes of md5, big endian, mod 3).
expected_shards() {
	python3 - "$deploy/probe-targets.yml" <<'PY'
import hashlib, sys, yaml
for group in yaml.safe_load(open(sys.argv[1])):
    module = group["labels"]["__param_module"]
    for t in group["targets"]:
        h = hashlib.md5(t.encode()).digest()
        print(t, module, int.from_bytes(h[8:], "big") % 3)
PY
}

if command -v jq >/dev/null; then
	# promtool runs discovery and relabeling for one job, offline: nothing is
	# scraped. The file is read at once; --timeout only bounds the wait for more.
	for job in portprobe_probe_0 portprobe_probe_1 portprobe_probe_2; do
		promtool check service-discovery --timeout=2s "$deploy/prometheus.yml" "$job" 2>"$work/sd.err" >"$work/$job.json" ||
			fail "promtool check service-discovery $job: $(tail -1 "$work/sd.err")"
		# shellcheck disable=SC2016 # jq program
		jq -r '.[] | .labels | select(. != {})
			| "\(.instance) \(.module) \(.job | ltrimstr("portprobe_probe_")) \(.__address__)\(.__metrics_path__)?module=\(.__param_module)&target=\(.__param_target)"' \
			"$work/$job.json" || fail "promtool check service-discovery $job: not the expected JSON"
	done >"$work/got.unsorted"
	sort "$work/got.unsorted" >"$work/got"
	expected_shards | while read -r target module shard; do
		echo "$target $module $shard portprobe-$shard:9115/probe?module=$module&target=$target"
	done | sort >"$work/want"
	[ -s "$work/want" ] || fail "probe-targets.yml lists no target"
	cmp -s "$work/want" "$work/got" ||
		fail "shard jobs (target module shard URL):
--- expected:
$(cat "$work/want")
--- promtool:
$(cat "$work/got")"
	got_self=$(promtool check service-discovery --timeout=2s "$deploy/prometheus.yml" portprobe 2>/dev/null |
		jq -r '[.[].labels | "\(.__address__)\(.__metrics_path__)"] | sort | join(" ")')
	want_self="portprobe-0:9115/metrics portprobe-1:9115/metrics portprobe-2:9115/metrics"
	[ "$got_self" = "$want_self" ] || fail "job portprobe scrapes: $got_self (expected $want_self)"
else
	note "jq missing: the sharding was not checked"
fi

# ---------------------------------------------------------------- portprobe.service
if command -v systemd-analyze >/dev/null; then
	# verify needs ExecStart's binary to exist: point it at the one just built
	bin=${pp:-/bin/true}
	sed "s#^ExecStart=/usr/local/bin/portprobe #ExecStart=$bin #" "$deploy/portprobe.service" >"$work/portprobe.service"
	grep -q "^ExecStart=$bin serve --config /etc/portprobe/portprobe.yaml --db /var/lib/portprobe/portprobe.db$" \
		"$work/portprobe.service" || fail "portprobe.service: ExecStart is not the documented command line"
	out=$(cd "$work" && systemd-analyze verify --man=no "$work/portprobe.service" 2>&1) ||
		fail "systemd-analyze verify: $out"
	[ -z "$out" ] || fail "systemd-analyze verify complains: $out"
	level=$(cd "$work" && systemd-analyze security --offline=yes "$work/portprobe.service" 2>&1 |
		sed -n 's/.*Overall exposure level for portprobe.service: \([0-9.]*\) \([A-Z]*\).*/\1 \2/p')
	case $level in
	*" OK") ;;
	*) fail "systemd-analyze security: exposure '$level', expected OK" ;;
	esac
	# shellcheck disable=SC2016 # $MAINPID is systemd's, not ours
	for key in DynamicUser=yes StateDirectory=portprobe ProtectSystem=strict NoNewPrivileges=yes \
		"RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX AF_NETLINK" 'ExecReload=/bin/kill -HUP $MAINPID' \
		Restart=on-failure; do
		grep -qxF "$key" "$deploy/portprobe.service" || fail "portprobe.service lacks $key"
	done
else
	note "systemd-analyze missing: portprobe.service not verified"
fi

# ---------------------------------------------------------------- compose.yaml
out=$(python3 - "$deploy/compose.yaml" <<'PY' 2>&1
import sys, yaml
doc = yaml.safe_load(open(sys.argv[1]))
svc = doc["services"]["portprobe"]
want = {
    "ports": ["127.0.0.1:9115:9115"],
    "restart": "unless-stopped",
    "build": {"context": "..", "dockerfile": "deploy/Dockerfile"},
}
for k, v in want.items():
    assert svc.get(k) == v, f"services.portprobe.{k} is {svc.get(k)!r}, expected {v!r}"
mounts = {(m["type"], m["target"]): m for m in svc["volumes"]}
cfg = mounts.get(("bind", "/etc/portprobe/portprobe.yaml"))
assert cfg and cfg.get("read_only") is True, "the configuration is not bind-mounted read-only"
hist = mounts.get(("volume", "/var/lib/portprobe"))
assert hist and hist["source"] in (doc.get("volumes") or {}), "no named volume on /var/lib/portprobe"
PY
) || fail "compose.yaml: $out"
[ -f "$deploy/portprobe.yaml" ] || fail "compose.yaml mounts ./portprobe.yaml, which is missing"

# ---------------------------------------------------------------- Dockerfile
df=$deploy/Dockerfile
for line in "EXPOSE 9115" 'VOLUME \["/var/lib/portprobe"\]' "USER 10001:10001" "HEALTHCHECK .*" \
	"FROM debian:bookworm-slim AS build" "FROM debian:bookworm-slim"; do
	grep -qx "$line" "$df" || fail "Dockerfile lacks a line '$line'"
done
grep -q 'http://127.0.0.1:9115/healthz' "$df" || fail "Dockerfile's HEALTHCHECK does not ask /healthz"
grep -q 'scripts/install-deps.sh build' "$df" || fail "Dockerfile does not install with scripts/install-deps.sh build"
# runtime packages: the last stage's apt-get install line(s), continuation lines joined
runtime=$(awk '/^FROM / {stage++} stage == 2' "$df" | sed -e ':a' -e '/\\$/N; s/\\\n//; ta' |
	grep 'apt-get install' | tr ' ' '\n' | grep -E '^[a-z0-9][a-z0-9.+-]+$' | grep -vx -e apt-get -e install -e rm)
if [ -n "$pp" ] && command -v readelf >/dev/null && command -v dpkg >/dev/null &&
	grep -qx 'VERSION_CODENAME=bookworm' /etc/os-release 2>/dev/null; then
	for soname in $(readelf -d "$pp" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
		# a sanitizer build (make asan) links its runtimes; the image never ships one
		case "$soname" in libasan.so* | libubsan.so* | libtsan.so* | liblsan.so*) continue ;; esac
		path=$(ldd "$pp" | awk -v s="$soname" '$1 == s {print $3}')
		# dpkg knows a library by the path its package ships (/lib or /usr/lib)
		pkg=$(dpkg -S "$path" "$(realpath "$path")" 2>/dev/null | head -1 | cut -d: -f1)
		[ -n "$pkg" ] || { fail "no Debian package owns $soname ($path)"; continue; }
		[ "$pkg" = libc6 ] && continue # in every Debian image
		grep -qx "$pkg" <<<"$runtime" || fail "Dockerfile: the runtime stage lacks $pkg (for $soname)"
	done
else
	note "not Debian 12, or no readelf/dpkg/PORTPROBE: runtime packages not checked against the binary"
fi

# ---------------------------------------------------------------- portprobe.yaml
if [ -n "$pp" ]; then
	# run checks the whole file first (exit 2 when invalid); its one check
	# connects to 127.0.0.1:9115, open or not (exit 0 or 1).
	rc=0
	out=$("$pp" run "$deploy/portprobe.yaml" 2>&1) || rc=$?
	[ "$rc" = 0 ] || [ "$rc" = 1 ] || fail "portprobe run deploy/portprobe.yaml: exit $rc: $out"
else
	note "PORTPROBE unset: deploy/portprobe.yaml not loaded"
fi

exit "$failed"
