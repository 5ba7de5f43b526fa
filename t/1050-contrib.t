#!/bin/sh
# 1050-contrib.t: contrib/ holds what it promises: every YAML file parses,
# the Kubernetes grace period exceeds preStop plus the longest
# drain-timeout of the shipped config, the probes are there, the configs
# pass segue -t, and the Dockerfile runs segue as PID 1 with STOPSIGNAL TERM.
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
python3 -c "import yaml" 2>/dev/null || skip_all "python3-yaml is not installed (sh setup test installs it)"
plan 9
C=$top_srcdir/contrib

# every YAML document of contrib/, Kubernetes and Ansible alike
yamls=$(find "$C" -name '*.yaml' -o -name '*.yml' | sort)
out=$(python3 - $yamls <<'PY' 2>&1
import sys, yaml
bad = 0
for path in sys.argv[1:]:
    try:
        with open(path) as f:
            list(yaml.safe_load_all(f))
    except Exception as e:
        print("%s: %s" % (path, e))
        bad += 1
sys.exit(1 if bad else 0)
PY
)
ok $? "every YAML file under contrib/ parses ($(echo "$yamls" | wc -l) files)" || diag "$out"

# The Deployment, its ConfigMap and the numbers that must agree.
facts=$(python3 - "$C/kubernetes/deployment.yaml" "$C/kubernetes/configmap.yaml" "$T/k8s.conf" <<'PY'
import re, sys, yaml
docs = [d for p in sys.argv[1:3] for d in yaml.safe_load_all(open(p)) if d]
dep = next(d for d in docs if d["kind"] == "Deployment")
cm = next(d for d in docs if d["kind"] == "ConfigMap")
conf = cm["data"]["segue.conf"]
open(sys.argv[3], "w").write(conf)
spec = dep["spec"]["template"]["spec"]
c = next(c for c in spec["containers"] if c["name"] == "segue")
def seconds(v):
    m = re.fullmatch(r"([0-9.]+)(ms|s|m|h)?", v)
    n = float(m.group(1))
    return n * {"ms": 0.001, "s": 1, None: 1, "m": 60, "h": 3600}[m.group(2)]
drains = [seconds(v) for v in re.findall(r'^\s*drain-timeout\s*=\s*"?([0-9.]+[a-z]*)"?', conf, re.M)]
pre = c["lifecycle"]["preStop"]["exec"]["command"]
sleep = float(pre[1]) if pre[0] == "sleep" else 0
vols = {v["name"]: v for v in spec["volumes"]}
mounts = [m for m in c["volumeMounts"] if "configMap" in vols[m["name"]]]
print("grace=%s" % spec["terminationGracePeriodSeconds"])
print("needed=%g" % (sleep + max(drains or [30])))
print("probes=%s,%s" % (c["readinessProbe"]["httpGet"]["path"], c["livenessProbe"]["httpGet"]["path"]))
print("configmap=%s" % (vols[mounts[0]["name"]]["configMap"]["name"] == cm["metadata"]["name"]
                        and "subPath" not in mounts[0]))
PY
)
diag "$(echo $facts)"
grace=$(echo "$facts" | sed -n 's/^grace=//p')
needed=$(echo "$facts" | sed -n 's/^needed=//p')
ok $(awk -v g="$grace" -v n="$needed" 'BEGIN { exit !(g > n) }'; echo $?) \
	"terminationGracePeriodSeconds ($grace) exceeds preStop + drain-timeout ($needed)"
is "$(echo "$facts" | sed -n 's/^probes=//p')" /ready,/health \
	"readiness asks /ready, liveness /health"
is "$(echo "$facts" | sed -n 's/^configmap=//p')" True \
	"the ConfigMap is mounted as a directory (an edit reaches the pod)"

# The shipped configs pass segue -t (admin-listen and all).
check "the ConfigMap's segue.conf passes segue -t" -- "$SEGUE" -t -c "$T/k8s.conf"
check "contrib/docker/segue.conf passes segue -t" -- "$SEGUE" -t -c "$C/docker/segue.conf"

# The Dockerfile: multi-stage Debian 12, segue as the entrypoint, TERM.
D=$C/docker/Dockerfile
is "$(grep -c '^FROM debian:12' "$D")" 2 "the Dockerfile has two Debian 12 stages"
like "$(grep '^ENTRYPOINT' "$D")" '^ENTRYPOINT \["segue", ' "segue is the entrypoint (PID 1), in exec form"
is "$(sed -n 's/^STOPSIGNAL //p' "$D")" SIGTERM "STOPSIGNAL is TERM, segue's graceful stop"
