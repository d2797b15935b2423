#!/usr/bin/env bash
# The main job, locally: a real ZooKeeper, marathon-sim with three simulated
# agents, and heron-marathon-controller, all on free loopback ports; then the
# sample topology conf/examples/word-count.yaml is submitted with the
# heron-marathon CLI and its status is shown once its Marathon group runs.
# Ctrl-C stops everything and leaves nothing running.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)

bash scripts/setup.sh
bash scripts/build.sh --target heron-marathon-controller heron-marathon marathon-sim >/dev/null

run_dir=$(mktemp -d /tmp/heron-marathon-local.XXXXXX)
pids=()
cleanup() {
  trap - INT TERM EXIT
  echo
  echo "stopping..."
  for pid in "${pids[@]}"; do kill -TERM "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  done
  rm -rf "$run_dir"
  echo "stopped; nothing left running."
}
trap cleanup INT TERM EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
wait_port() { for _ in $(seq 300); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.1; done; echo "timed out waiting for port $1" >&2; return 1; }
start() { # name, command...: runs in its own process group, logs to $run_dir/<name>.log
  local name=$1; shift
  setsid "$@" >"$run_dir/$name.log" 2>&1 &
  pids+=("$!")
}

zk_port=$(free_port)
mkdir -p "$run_dir/zk-data"
cat >"$run_dir/zoo.cfg" <<CFG
tickTime=2000
dataDir=$run_dir/zk-data
clientPort=$zk_port
clientPortAddress=127.0.0.1
admin.enableServer=false
4lw.commands.whitelist=ruok,srvr
CFG
cp=/etc/zookeeper/conf
for j in zookeeper zookeeper-jute slf4j-api slf4j-log4j12 log4j-1.2 metrics-core netty-buffer \
         netty-common netty-handler netty-resolver netty-codec netty-transport \
         netty-transport-native-epoll netty-transport-native-unix-common snappy-java commons-cli; do
  [ -e "/usr/share/java/$j.jar" ] && cp="$cp:/usr/share/java/$j.jar"
done
echo "starting ZooKeeper on 127.0.0.1:$zk_port"
start zookeeper java -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -cp "$cp" org.apache.zookeeper.server.ZooKeeperServerMain "$run_dir/zoo.cfg"
wait_port "$zk_port"

sim_port=$(free_port)
echo "starting marathon-sim on 127.0.0.1:$sim_port (3 agents: 4 cpus, 16 GiB each)"
start marathon-sim build/marathon-sim/marathon-sim --listen "127.0.0.1:$sim_port" \
  --agent cpus=4,mem=16384,disk=100000,ports=31000-32000 \
  --agent cpus=4,mem=16384,disk=100000,ports=31000-32000 \
  --agent cpus=4,mem=16384,disk=100000,ports=31000-32000 --offer-period 500ms
wait_port "$sim_port"

metrics_port=$(free_port)
health_port=$(free_port)
echo "starting heron-marathon-controller (metrics on 127.0.0.1:$metrics_port, health on 127.0.0.1:$health_port)"
start controller build/controller/heron-marathon-controller --zk "127.0.0.1:$zk_port" \
  --marathon "http://127.0.0.1:$sim_port" --metrics-address "127.0.0.1:$metrics_port" \
  --health-address "127.0.0.1:$health_port" --identity local-demo

cli=build/cli/heron-marathon
echo
echo "\$ heron-marathon submit conf/examples/word-count.yaml --wait"
"$cli" --zk "127.0.0.1:$zk_port" submit conf/examples/word-count.yaml --wait --timeout 2m
echo
echo "\$ heron-marathon status"
"$cli" --zk "127.0.0.1:$zk_port" status
echo
echo "Marathon group (from marathon-sim):"
curl -s "http://127.0.0.1:$sim_port/v2/groups/heron/topologies/word-count?embed=group.apps&embed=group.apps.counts" |
  python3 -c 'import json,sys; g=json.load(sys.stdin); [print("  %s instances=%d running=%d" % (a["id"], a["instances"], a.get("tasksRunning",0))) for a in g["apps"]]'
echo
echo "Everything runs; logs in $run_dir. Try, in another shell:"
echo "  $top/$cli --zk 127.0.0.1:$zk_port describe word-count"
echo "  curl -s http://127.0.0.1:$metrics_port/metrics | grep heron_marathon_topologies"
echo "Press Ctrl-C to stop."
if [ -t 0 ] || [ -z "${HMC_DEMO_EXIT:-}" ]; then
  while sleep 3600; do :; done
fi
