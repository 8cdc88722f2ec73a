"""Where the Patroni cluster of deploy/cluster.sh stands.

Usage: cluster-state.py REST_PORT...  (each node's Patroni REST API on
127.0.0.1). Prints one line, e.g. "pg1 leader running, pg2 sync_standby
running streaming, pg3 replica running streaming", and exits 0 when the
cluster is whole: three members, a running leader, both standbys streaming
from it (the leader's pg_stat_replication, as its Patroni reports it) and
one of them synchronous. Exits 1 otherwise.
"""
import json
import sys
import urllib.error
import urllib.parse
import urllib.request


def get(port, path):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as answer:
            return json.load(answer)
    except urllib.error.HTTPError as refused:  # a node not running answers 503, with its state
        try:
            return json.load(refused)
        except ValueError:
            return None
    except (OSError, ValueError):
        return None


def main(ports):
    members = None
    for port in ports:
        cluster = get(port, "/cluster")
        if cluster is not None:
            members = cluster.get("members", [])
            break
    if members is None:
        print("no Patroni node answers")
        return 1
    leader = next((m for m in members if m.get("role") == "leader"), None)
    streaming = {}
    if leader is not None:
        port = urllib.parse.urlsplit(leader.get("api_url", "")).port
        status = get(port, "/patroni") or {}
        streaming = {
            r.get("application_name"): r
            for r in status.get("replication", [])
            if r.get("state") == "streaming"
        }
    parts = []
    for name in sorted({m["name"] for m in members} | {"pg1", "pg2", "pg3"}):
        member = next((m for m in members if m["name"] == name), None)
        if member is None:
            parts.append(f"{name} absent")
            continue
        text = f"{name} {member.get('role')} {member.get('state')}"
        if member.get("role") != "leader":
            text += " streaming" if name in streaming else " not streaming"
        parts.append(text)
    whole = (
        leader is not None
        and leader.get("state") == "running"
        and len(members) == 3
        and len(streaming) == 2
        and any(r.get("sync_state") in ("sync", "quorum") for r in streaming.values())
    )
    print(", ".join(parts))
    return 0 if whole else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
