#!/bin/sh
# 1060-ansible-deploy.t: contrib/ansible with the real ansible-core, on
# three inventory hosts that are three local segues (ansible_connection=
# local; each its control socket, port and base directory): the role
# installs their config, deploy.yml rolls a good release to all three, and
# a bad one (its worker is never ready) fails on host 1 and stops the play:
# hosts 2 and 3 keep the old release, host 1 serves the old one again. A
# load generator on each host sees no failed request throughout.
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
command -v ansible-playbook >/dev/null 2>&1 ||
	skip_all "ansible-playbook is not installed (sh setup test installs ansible-core)"
plan 19
A=$top_srcdir/contrib/ansible

# Hermetic: no config file, home, temp dir or fact gathering of the
# user's; nothing leaves $T.
mkdir -p "$T/home" "$T/ansible"
printf '[defaults]\n' > "$T/ansible.cfg"
export HOME="$T/home" ANSIBLE_CONFIG="$T/ansible.cfg" ANSIBLE_HOME="$T/ansible" \
	ANSIBLE_LOCAL_TEMP="$T/ansible/tmp" ANSIBLE_REMOTE_TEMP="$T/ansible/remote-tmp" \
	ANSIBLE_ROLES_PATH="$A/roles" ANSIBLE_COLLECTIONS_PATH="$T/ansible/collections" \
	ANSIBLE_GATHERING=explicit ANSIBLE_RETRY_FILES_ENABLED=false ANSIBLE_NOCOLOR=1 \
	ANSIBLE_LOCALHOST_WARNING=false ANSIBLE_DEPRECATION_WARNINGS=false \
	ANSIBLE_SYSTEM_WARNINGS=false ANSIBLE_PIPELINING=true
diag "$(ansible-playbook --version | head -n 1)"

# Releases on the controller: 1 and 2 run the demo app, 3 never gets ready.
for r in 1 2 3; do
	mkdir -p "$T/build/$r"
	echo "$r" > "$T/build/$r/VERSION"
done
printf '#!/bin/sh\nexec %s\n' "$DEMO" > "$T/build/1/app"
cp "$T/build/1/app" "$T/build/2/app"
printf '#!/bin/sh\nexec sleep 300\n' > "$T/build/3/app"
chmod +x "$T"/build/*/app

# The inventory: hosts h1 h2 h3, in that order, each with release 1.
{
	echo "[segue]"
	for h in h1 h2 h3; do
		port=$(free_port)
		eval "port_$h=$port"
		mkdir -p "$T/$h/releases"
		cp -a "$T/build/1" "$T/$h/releases/1"
		ln -s releases/1 "$T/$h/current"
		echo "$h ansible_connection=local segue_base=$T/$h segue_port=$port" \
			"segue_control=$T/$h/control.sock segue_config_path=$T/$h/segue.conf"
	done
	echo "[segue:vars]"
	echo "ansible_python_interpreter={{ ansible_playbook_python }}"
	# one a line: a :vars section takes no more
	printf '%s\n' "segue_binary=$SEGUE" "segue_seguectl=$SEGUECTL" \
		segue_manage_service=false segue_ready_timeout=2s segue_drain_timeout=5s \
		segue_workers=2
} > "$T/inventory"

# play PLAYBOOK ARGS...: ansible-playbook's output in $T/play.out; sets PLAY_RC.
play() {
	ansible-playbook -i "$T/inventory" "$@" > "$T/play.out" 2>&1
	PLAY_RC=$?
	sed -n '/PLAY RECAP/,$p' "$T/play.out" | sed 's/^/# /'
}

play "$A/site.yml"
is "$PLAY_RC" 0 "the role segue installs the three configs" || sed 's/^/# /' "$T/play.out"
check "each passes segue -t" -- eval 'for h in h1 h2 h3; do
	"$SEGUE" -t -c "$T/$h/segue.conf" >/dev/null || exit 1; done' 

# the three segues and a load on each: requests of 20 ms, so that some are
# always in flight, without a busy loop on a shared machine
for h in h1 h2 h3; do
	SEGUE_LOG=$T/$h/segue.log
	start_segue -c "$T/$h/segue.conf"
	eval "pid_$h=$SEGUE_PID"
	wait_event -n 2 event=worker_ready
	eval port=\$port_$h
	"$LOADGEN" -a "127.0.0.1:$port" -c 2 -p "/slow?ms=20" -d 300 -s "$T/$h/stop" -w "$T/$h/flowing" \
		> "$T/$h/load.out" 2> "$T/$h/load.err" &
	eval "load_$h=$!"
	register_pid $!
done
check "the loads flow" -- wait_for 10 eval 'test -e "$T/h1/flowing" && test -e "$T/h2/flowing" && test -e "$T/h3/flowing"'

# serving HOST: the release the worker that answers on HOST's port runs
serving() {
	local port pid
	eval port=\$port_$1
	pid=$(curl -sf "http://127.0.0.1:$port/" | sed -n 's/^pid=\([0-9]*\).*/\1/p')
	[ -n "$pid" ] && basename "$(readlink "/proc/$pid/cwd")"
}
links() { echo "$(readlink "$T/h1/current") $(readlink "$T/h2/current") $(readlink "$T/h3/current")"; }

# a good release reaches every host
play "$A/deploy.yml" -e release_id=2 -e "release_src=$T/build/2"
is "$PLAY_RC" 0 "release 2 deploys" || sed 's/^/# /' "$T/play.out"
like "$(grep -E '^h[123] ' "$T/play.out" | tr -s ' ' | tr '\n' '|')" \
	'^h1 : ok=[0-9]+ changed=[0-9]+ unreachable=0 failed=0 .*h2 : .*failed=0 .*h3 : .*failed=0 ' \
	"the recap has the three hosts, none failed"
is "$(links)" "releases/2 releases/2 releases/2" "current is releases/2 on every host"
is "$(serving h1) $(serving h2) $(serving h3)" "2 2 2" "every host serves release 2"
for h in h1 h2 h3; do
	SEGUE_LOG=$T/$h/segue.log
	eval SEGUE_PID=\$pid_$h
	has_event event=reload_succeeded || diag "$h: no reload_succeeded"
done
is "$(cmp -s "$T/build/2/VERSION" "$T/h3/releases/2/VERSION" && echo same)" same \
	"the release's files reached releases/2"

# a bad release fails on host 1 and goes no further
play "$A/deploy.yml" -e release_id=3 -e "release_src=$T/build/3"
ok $([ "$PLAY_RC" -ne 0 ] && echo 0 || echo 1) "release 3 fails the play (ansible-playbook exit $PLAY_RC)"
like "$(grep -E '^h1 ' "$T/play.out" | tr -s ' ')" 'failed=1 ' "host 1 failed"
check "hosts 2 and 3 never ran it" -- eval '! grep -Eq "^h[23] " "$T/play.out"'
like "$(cat "$T/play.out")" 'release 3 failed on h1 \(seguectl exit 1' \
	"the message names the release, the host and seguectl's exit status 1"
SEGUE_LOG=$T/h1/segue.log
SEGUE_PID=$pid_h1
check "segue on host 1 rolled the reload back" -- has_event event=reload_failed
is "$(links)" "releases/2 releases/2 releases/2" "current is releases/2 again on host 1, and still on 2 and 3"
check "hosts 2 and 3 never got release 3" -- eval '[ ! -e "$T/h2/releases/3" ] && [ ! -e "$T/h3/releases/3" ]'
is "$(serving h1) $(serving h2) $(serving h3)" "2 2 2" "every host serves release 2"

for h in h1 h2 h3; do
	touch "$T/$h/stop"
	eval "wait \$load_$h"
	result=$(cat "$T/$h/load.out")
	diag "$h: $result"
	sed 's/^/# /' "$T/$h/load.err" | head -n 5
	like "$result" ' errors=0 ' "$h: no failed request through both deploys"
done
