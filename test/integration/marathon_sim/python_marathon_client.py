#!/usr/bin/env python3
"""Debian's python3-marathon (a Marathon client library this project did not
write) against marathon-sim: create, list, scale and delete groups and apps.

Usage: python_marathon_client.py URL. Exits non-zero with a message on the
first behaviour that differs from Marathon's."""
import json
import sys
import time
import urllib.request

from marathon import MarathonClient
from marathon.exceptions import ConflictError, MarathonHttpError, NotFoundError
from marathon.models import MarathonApp, MarathonGroup


def wait(what, pred, timeout=20.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def http(url, method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url + path, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        text = r.read()
        return r.status, (json.loads(text) if text else None)


def main(url):
    c = MarathonClient(url, timeout=10)
    check(c.ping().strip() in (b"pong", "pong", b'"pong"'), "ping")
    info = c.get_info()
    check(info.name == "marathon", "info.name")

    # Groups: create, get, list, scale, delete.
    group = MarathonGroup(id="/pyclient/topo", apps=[
        MarathonApp(id="/pyclient/topo/0", cmd="sleep 1000", cpus=0.5, mem=64, instances=1),
        MarathonApp(id="/pyclient/topo/1", cmd="sleep 1000", cpus=0.5, mem=64, instances=2),
    ])
    created = c.create_group(group)
    check("deploymentId" in created and "version" in created, "create_group result %r" % created)
    try:
        c.create_group(group)
        raise AssertionError("second create_group should conflict")
    except ConflictError:
        pass
    got = c.get_group("/pyclient/topo")
    check(sorted(a.id for a in got.apps) == ["/pyclient/topo/0", "/pyclient/topo/1"], "get_group apps")
    listed = c.list_groups()
    check([g.id for g in listed] == ["/pyclient"], "list_groups %r" % [g.id for g in listed])
    check(listed[0].groups[0].id == "/pyclient/topo", "nested group")

    wait("tasks running", lambda: sum(a.tasks_running for a in c.list_apps()) == 3)
    wait("deployments done", lambda: c.list_deployments() == [])
    tasks = c.list_tasks()
    check(len(tasks) == 3 and all(t.state == "TASK_RUNNING" for t in tasks), "list_tasks")

    c.scale_group("/pyclient/topo", 0)
    wait("group suspended", lambda: sum(a.tasks_running for a in c.list_apps()) == 0)
    check(all(a.instances == 0 for a in c.get_group("/pyclient/topo").apps), "scaleBy 0")
    wait("deployments done", lambda: c.list_deployments() == [])

    c.delete_group("/pyclient/topo", force=True)
    try:
        c.get_group("/pyclient/topo")
        raise AssertionError("deleted group still found")
    except NotFoundError:
        pass

    # Apps: create, get, list, scale, restart, delete.
    app = c.create_app("/pyclient/web", MarathonApp(cmd="sleep 1000", cpus=0.25, mem=32, instances=1))
    check(app and app.id == "/pyclient/web", "create_app")
    try:
        c.create_app("/pyclient/web", MarathonApp(cmd="sleep 1000", cpus=0.25, mem=32))
        raise AssertionError("duplicate app accepted")
    except ConflictError:
        pass
    wait("app running", lambda: c.get_app("/pyclient/web").tasks_running == 1)
    check([a.id for a in c.list_apps()] == ["/pyclient/web"], "list_apps")
    result = c.scale_app("/pyclient/web", instances=3)
    check("deploymentId" in result, "scale_app result")
    wait("scaled up", lambda: c.get_app("/pyclient/web").tasks_running == 3)
    c.scale_app("/pyclient/web", delta=-1)
    wait("scaled down", lambda: c.get_app("/pyclient/web").tasks_running == 2)
    wait("deployments done", lambda: c.list_deployments() == [])
    c.restart_app("/pyclient/web")
    wait("restart done", lambda: c.list_deployments() == [])
    check(c.get_app("/pyclient/web").tasks_running == 2, "running after restart")

    try:
        c.create_app("/pyclient/Bad_Name", MarathonApp(cmd="x"))
        raise AssertionError("invalid id accepted")
    except (MarathonHttpError, ValueError):
        pass

    c.delete_app("/pyclient/web", force=True)
    try:
        c.get_app("/pyclient/web")
        raise AssertionError("deleted app still found")
    except NotFoundError:
        pass
    # Task failures: a fetch fault (marathon-sim's admin endpoint), then the
    # app's lastTaskFailure as the library reads it, the launch delay, and
    # reset_delay once the fault is gone.
    status, fault = http(url, "POST", "/_sim/task-faults", {"kind": "fetch", "app": "/pyclient/failing"})
    check(status == 201 and fault["id"], "task fault added")
    c.create_app("/pyclient/failing", MarathonApp(cmd="sleep 1000", cpus=0.1, mem=16, instances=1,
                                                  uris=["http://repo.local/heron-core.tar.gz"], backoff_seconds=600))
    wait("task failure", lambda: c.get_app("/pyclient/failing").last_task_failure is not None)
    failure = c.get_app("/pyclient/failing").last_task_failure
    check(failure.state == "TASK_FAILED", "lastTaskFailure.state %r" % failure.state)
    check("Failed to fetch all URIs" in failure.message, "lastTaskFailure.message %r" % failure.message)
    check(failure.app_id == "/pyclient/failing" and failure.slave_id and failure.timestamp, "lastTaskFailure fields")
    _, queue = http(url, "GET", "/v2/queue")
    entry = [e for e in queue["queue"] if e["app"]["id"] == "/pyclient/failing"]
    check(entry and entry[0]["delay"]["timeLeftSeconds"] > 500 and not entry[0]["delay"]["overdue"],
          "queue delay %r" % (entry and entry[0]["delay"]))
    http(url, "DELETE", "/_sim/task-faults/" + fault["id"])
    c.reset_delay("/pyclient/failing")
    wait("running after reset_delay", lambda: c.get_app("/pyclient/failing").tasks_running == 1)
    c.delete_app("/pyclient/failing", force=True)

    wait("all stopped", lambda: c.list_tasks() == [])
    print("python3-marathon: all checks passed")


if __name__ == "__main__":
    try:
        main(sys.argv[1])
    except AssertionError as e:
        print("FAILED: %s" % e)
        sys.exit(1)
