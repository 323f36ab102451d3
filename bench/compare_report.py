#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Prints bench/compare.sh's results (one JSON object a line) as tables, or
with --json as one JSON object: the limits, Strata beside Hypercore and
PouchDB with ratios ("lead": how many times Strata is ahead, > 1 ahead,
< 1 behind; for memory and bytes the peer's figure over Strata's), each
Strata figure as a fraction of its physical limit, and the scale curve.
Figures only: nothing here asserts."""
import json
import sys


def load(path):
    rows = [json.loads(line) for line in open(path) if line.strip()]
    out = {"machine": {}, "limits": {}, "strata": {}, "peers": {}, "scale": [], "end": {}}
    for r in rows:
        k = r["kind"]
        if k == "machine":
            out["machine"] = r
        elif k == "limit":
            out["limits"][r["name"]] = dict(r["r"], load=r["load"])
        elif k == "strata":
            out["strata"].setdefault(str(r["n"]), {})[r["name"]] = r
        elif k == "peer":
            out["peers"].setdefault(str(r["n"]), {})[r["name"]] = dict(r["r"], load=r["load"])
        elif k == "scale":
            out["scale"].append(r)
        elif k == "end":
            out["end"] = r
    return out


def rate(r, n_key="records"):
    return r[n_key] / r["wall_s"] if r and r.get("wall_s") else None


def mib(kib):
    return None if kib is None else kib / 1024.0


def div(a, b):
    return None if a is None or b is None or b == 0 else a / b


def comparison(d, n):
    """The rows of one N: (figure, unit, strata, hypercore, pouchdb,
    lead over hypercore, lead over pouchdb, fraction of limit, limit name,
    target)."""
    s = d["strata"].get(n, {})
    p = d["peers"].get(n, {})
    hc, pd = p.get("hypercore", {}), p.get("pouchdb", {})
    lim = d["limits"]
    rows = []

    def add(fig, unit, sv, hv, pv, higher_better=True, frac=None, limit=None, target=None):
        if higher_better:
            lh, lp = div(sv, hv), div(sv, pv)
        else:
            lh, lp = div(hv, sv), div(pv, sv)
        rows.append({"figure": fig, "unit": unit, "strata": sv, "hypercore": hv, "pouchdb": pv,
                     "lead_over_hypercore": lh, "lead_over_pouchdb": lp,
                     "fraction_of_limit": frac, "limit": limit, "target": target})

    sign = lim.get("sign", {}).get("signs_per_s")
    verify = lim.get("verify", {}).get("verifies_per_s")
    sv_serial = 1 / (1 / sign + 1 / verify) if sign and verify else None
    lmdb_big = lim.get("lmdb_8x125000", {}).get("mb_per_s")
    lmdb_small = lim.get("lmdb_512x300", {}).get("records_per_s")
    zmq_big = lim.get("zmq_1048576", {}).get("mb_per_s")
    zmq_mid = lim.get("zmq_153600", {}).get("mb_per_s")

    ws, wb = s.get("write_single"), s.get("write_batched")
    w1 = rate(ws)
    # A bulk write signs each change set, ingests (verifies) it, and commits
    # durably every 16,000 ops (NODE_OPS_PER_TXN), here 16,000 one-op change
    # sets: its ceiling is the lower of the two.
    lmdb1 = lim.get("lmdb_1x300", {}).get("commits_per_s")
    commit_cap = 16000 * lmdb1 if lmdb1 else None
    caps = [(v, t) for v, t in ((sv_serial, "raw sign + verify in series, 1 core: %s/s" % fmt(sv_serial)),
                               (commit_cap, "16,000 one-op change sets per durable LMDB commit: %s/s" % fmt(commit_cap))) if v]
    cap = min(caps) if caps else (None, None)
    add("write, one record per entry (signed one by one)", "entries/s", w1,
        hc.get("write_single_per_s"), pd.get("write_single_per_s"),
        frac=div(w1, cap[0]), limit=cap[1])
    wbr = rate(wb)
    wb_mb = div(wb["store_bytes"] / 1e6, wb["wall_s"]) if wb else None
    # LMDB alone storing what the batched street's store holds, in durable
    # 1 MiB commits (strata-lmdb-replay, fastest of three): the ceiling of
    # writing or receiving those records on this disk.
    rp = (s.get("lmdb_replay_sB") or {}).get("r")
    rp_s = rp and rp.get("seconds")
    rp_txt = ("LMDB alone storing the same records (strata-lmdb-replay): %s s, %s records/s" % (
        "%.3f" % rp_s, fmt(div(rp["records"], rp_s)))) if rp_s else "LMDB alone storing the same records: not measured"
    add("write, batched (1,000 per entry / append / bulkDocs)", "records/s", wbr,
        hc.get("write_batched_per_s"), pd.get("write_batched_per_s"),
        frac=div(rp_s, wb and wb["wall_s"]), limit=rp_txt + " (%s MB/s of store)" % fmt(wb_mb))
    add("writer peak RSS (batched write)", "MiB", mib(wb and wb["peak_rss_kib"]),
        mib(hc.get("writer_peak_rss_kib_after_writes")), mib(pd.get("writer_peak_rss_kib")), higher_better=False)

    ra, rb = s.get("replicate_sA"), s.get("replicate_sB")
    r1 = rate(ra)
    best_pd = max([v for v in (pd.get("local_replicate_per_s"), pd.get("http_replicate_per_s")) if v] or [0]) or None
    add("replicate to a 2nd node, one record per entry", "entries/s", r1,
        hc.get("replicate_per_s"), best_pd,
        frac=div(r1, verify), limit="raw verify, 1 core: %s/s" % fmt(verify), target=">= 0.70")
    r2 = rate(rb)
    wire_mb = div(rb["wire_bytes"] / 1e6, rb["wall_s"]) if rb else None
    store_mb = div(wb["store_bytes"] / 1e6, rb["wall_s"]) if rb and wb else None
    # the same without the start (daemon start, CURVE handshake, Hello):
    # what the link sustains once entries flow
    flow_s = rb["wall_s"] - rb["first_s"] if rb and rb["wall_s"] > rb["first_s"] else None
    wire_flow = div(rb["wire_bytes"] / 1e6, flow_s) if rb else None
    store_flow = div(wb["store_bytes"] / 1e6, flow_s) if rb and wb else None
    # Against ZeroMQ, the batches as packed (before zstd): what the link
    # would carry without compression. The wire figure is smaller.
    batch_mb = div(rb["batch_bytes"] / 1e6, rb["wall_s"]) if rb and rb.get("batch_bytes") else None
    batch_flow = div(rb["batch_bytes"] / 1e6, flow_s) if rb and rb.get("batch_bytes") and flow_s else None
    # Batched replication is bound by the lower of two limits in series: the
    # link carrying the batches and the receiver's store keeping them. Here
    # LMDB is the lower by far (ZeroMQ CURVE would carry the packed batches
    # 5-10 times faster than LMDB can store them), so the target is judged
    # against LMDB storing the same records; ZeroMQ is shown beside it.
    rec_b = div(rb and rb.get("batch_bytes"), rb and rb["records"])
    zmq_recs = div(zmq_big * 1e6, rec_b) if zmq_big and rec_b else None
    add("replicate to a 2nd node, batched entries", "records/s", r2,
        hc.get("replicate_per_s"), best_pd,
        frac=div(rp_s, rb and rb["wall_s"]),
        limit=rp_txt + "; once the first entry is in: %s %%" % fmt(100 * div(rp_s, flow_s) if rp_s and flow_s else None),
        target=">= 0.50")
    rows.append({"figure": "  the same against ZeroMQ", "unit": "", "strata": None, "hypercore": None, "pouchdb": None,
                 "lead_over_hypercore": None, "lead_over_pouchdb": None,
                 "fraction_of_limit": div(r2, zmq_recs),
                 "limit": "ZeroMQ CURVE, 1 MiB frames: %s MB/s = %s records/s of batches as packed (%s B a record); not the bound (Strata: %s MB/s as packed, %s once the first entry is in; %s MB/s on the wire after zstd)" % (
                     fmt(zmq_big), fmt(zmq_recs), fmt(rec_b), fmt(batch_mb), fmt(batch_flow), fmt(wire_mb)),
                 "target": None})
    rows.append({"figure": "  the same against LMDB's 8 x 125 KB shape", "unit": "", "strata": None, "hypercore": None, "pouchdb": None,
                 "lead_over_hypercore": None, "lead_over_pouchdb": None,
                 "fraction_of_limit": div(store_mb, lmdb_big),
                 "limit": "LMDB durable MB/s, 8 x 125 KB commits: %s (Strata: %s MB/s of sender's store; %s once the first entry is in: %s %%)" % (
                     fmt(lmdb_big), fmt(store_mb), fmt(store_flow), fmt(100 * div(store_flow, lmdb_big) if store_flow and lmdb_big else None)),
                 "target": None})
    add("  PouchDB replication, local / over HTTP", "docs/s", None, None, None)
    rows[-1]["pouchdb_local_http"] = [pd.get("local_replicate_per_s"), pd.get("http_replicate_per_s")]
    add("bytes on the wire per record, one per entry", "B", div(ra and ra["wire_bytes"], ra and ra["records"]),
        hc.get("wire_bytes_per_entry"), pd.get("http_wire_bytes_per_doc"), higher_better=False)
    add("bytes on the wire per record, batched", "B", div(rb and rb["wire_bytes"], rb and rb["records"]),
        hc.get("wire_bytes_per_entry"), pd.get("http_wire_bytes_per_doc"), higher_better=False)
    add("receiver peak RSS, one per entry", "MiB", mib(ra and ra["receiver_peak_rss_kib"]),
        mib(hc.get("receiver_peak_rss_kib")), mib(pd.get("http_client_peak_rss_kib")), higher_better=False)
    add("receiver peak RSS, batched", "MiB", mib(rb and rb["receiver_peak_rss_kib"]),
        mib(hc.get("receiver_peak_rss_kib")), mib(pd.get("http_client_peak_rss_kib")), higher_better=False)
    t1, t2 = s.get("three_nodes_sA"), s.get("three_nodes_sB")
    add("street -> district -> city, one record per entry", "entries/s", rate(t1), None, None,
        frac=div(rate(t1), verify), limit="raw verify, 1 core")
    add("street -> district -> city, batched", "records/s", rate(t2), None, None)
    return rows


def fmt(v, unit=""):
    if v is None:
        return "-"
    if isinstance(v, float) and abs(v) < 10:
        return "%.2f" % v
    return "{:,.0f}".format(v)


def table(d):
    m = d["machine"]
    print("Strata beside its peers and its limits (%s), %s%s" % (m.get("mode"), m.get("date"),
          " (--quick: small sizes)" if m.get("quick") else ""))
    print("machine: %s cores, %s, %s; libsodium %s, LMDB %s, libzmq %s; node %s" % (
        m.get("nproc"), m.get("cpu"), m.get("kernel"), m.get("libsodium"), m.get("lmdb"), m.get("libzmq"), m.get("node")))
    print("build:   release (build-bench/), commit %s" % m.get("commit"))
    print("load:    %s at the start, %s at the end (1/5/15 min)" % (m.get("load_start"), d["end"].get("load_end")))
    lim = d["limits"]
    if lim:
        print("\nlimits (one thread or one link, no Strata code)")
        row = "  %-66s %-22s %s"
        L = lambda k, f: lim.get(k, {}).get(f)
        print(row % ("raw Ed25519 sign, 250 B", fmt(L("sign", "signs_per_s")) + " /s", "load " + lim.get("sign", {}).get("load", "")))
        print(row % ("raw Ed25519 verify, 250 B", fmt(L("verify", "verifies_per_s")) + " /s", "load " + lim.get("verify", {}).get("load", "")))
        print(row % ("LMDB durable commits, 1 x 300 B each", fmt(L("lmdb_1x300", "commits_per_s")) + " commits/s", ""))
        print(row % ("LMDB durable commits, 512 x 300 B each", fmt(L("lmdb_512x300", "records_per_s")) + " records/s",
                     fmt(L("lmdb_512x300", "mb_per_s")) + " MB/s, " + fmt(L("lmdb_512x300", "commits_per_s")) + " commits/s"))
        print(row % ("LMDB durable commits, 8 x 125 KB each", fmt(L("lmdb_8x125000", "mb_per_s")) + " MB/s",
                     fmt(L("lmdb_8x125000", "commits_per_s")) + " commits/s"))
        for k, label in (("zmq_300", "300 B"), ("zmq_153600", "150 KB (a batch of one-op entries)"),
                         ("zmq_1048576", "1 MiB (a batch of 1,000-op change sets)"), ("zmq_1048576_plain", "1 MiB, plain (no CURVE)")):
            print(row % ("ZeroMQ %s over 127.0.0.1, %s" % ("CURVE" if "plain" not in k else "TCP", label),
                         fmt(L(k, "mb_per_s")) + " MB/s", fmt(L(k, "messages_per_s")) + " msgs/s; load " + lim.get(k, {}).get("load", "")))
    for n in sorted(d["strata"], key=int):
        s = d["strata"][n]
        ns = s.get("write_single", {}).get("records")
        print("\nN = {:,} records of ~200 bytes ({:,} written one per entry)".format(int(n), ns or 0))
        print("  %-50s %-10s %12s %12s %12s  %-9s %-9s %s" % ("figure", "unit", "Strata", "Hypercore", "PouchDB",
                                                          "lead/HC", "lead/PDB", "fraction of limit (target)"))
        for r in comparison(d, n):
            if "pouchdb_local_http" in r:
                a, b = r["pouchdb_local_http"]
                print("  %-50s %-10s %12s %12s %12s" % (r["figure"], r["unit"], "", "", fmt(a) + " / " + fmt(b)))
                continue
            lead = lambda v: "-" if v is None else "%.2fx" % v
            fr = ""
            if r["fraction_of_limit"] is not None:
                fr = "%.0f %% of %s%s" % (100 * r["fraction_of_limit"], r["limit"], " (" + r["target"] + ")" if r["target"] else "")
            print("  %-50s %-10s %12s %12s %12s  %-9s %-9s %s" % (r["figure"], r["unit"], fmt(r["strata"]), fmt(r["hypercore"]),
                                                              fmt(r["pouchdb"]), lead(r["lead_over_hypercore"]),
                                                              lead(r["lead_over_pouchdb"]), fr))
        print("  loads: " + "; ".join("%s %s" % (k, v.get("load")) for k, v in s.items()))
        for p, v in sorted(d["peers"].get(n, {}).items()):
            print("         %s %s" % (p, v.get("load")))
        t = s.get("three_nodes_sA"), s.get("three_nodes_sB")
        for x, label in zip(t, ("one-op", "batched")):
            if x:
                print("  three nodes, %s: %.2f s; wire street->district %s B, district->city %s B; city / district peak RSS %.1f / %.1f MiB" % (
                    label, x["wall_s"], fmt(x["wire_bytes_street_district"]), fmt(x["wire_bytes_district_city"]),
                    mib(x["city_peak_rss_kib"]), mib(x["district_peak_rss_kib"])))
    if d["scale"]:
        print("\nscale: a new city catching up one-op change sets from one street (CURVE, 127.0.0.1)")
        print("  %12s %10s %12s %14s %14s %14s %12s %10s  %s" % ("change sets", "time s", "entries/s", "peak RSS MiB",
                                                             "RssAnon MiB", "RssFile MiB", "store MiB", "wire B/cs", "load"))
        for r in d["scale"]:
            print("  %12s %10.2f %12s %14.1f %14.1f %14.1f %12.1f %10.0f  %s" % (
                "{:,}".format(r["head"]), r["wall_s"], fmt(r["head"] / r["wall_s"]), mib(r["receiver_peak_rss_kib"]),
                mib(r["receiver_rss_anon_kib"]), mib(r["receiver_rss_file_kib"]), r["receiver_store_bytes"] / 1048576.0,
                r["wire_bytes"] / r["head"], r["load"]))


def main():
    args = sys.argv[1:]
    as_json = "--json" in args
    args = [a for a in args if a != "--json"]
    d = load(args[0])
    if as_json:
        d["comparison"] = {n: comparison(d, n) for n in d["strata"]}
        print(json.dumps(d, indent=1))
    else:
        table(d)


if __name__ == "__main__":
    main()
