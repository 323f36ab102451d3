#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes docs/vectors/{changeset,keys,join,rotate,bundle}.json.

An implementation Strata did not write: the Python standard library
(hashlib.blake2b, hashlib.sha512, base64) and `cryptography` (OpenSSL's
Ed25519 and X25519), with the protobuf encoding written out by hand from
docs/PROTOCOL.md. tests/protocol/test_vectors_*.c recompute every output
with Strata's code and with libsodium directly; the two must agree.

    python3 docs/vectors/generate.py        (from the repository root)
"""
import base64
import hashlib
import json
import os

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives import serialization

HERE = os.path.dirname(os.path.abspath(__file__))
RAW = serialization.Encoding.Raw


# ---- protobuf, by hand: fields in number order, minimal varints ----

def varint(v):
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def f_varint(field, v):
    return varint(field << 3 | 0) + varint(v)


def f_bytes(field, b):
    if isinstance(b, str):
        b = b.encode()
    return varint(field << 3 | 2) + varint(len(b)) + b


# ---- crypto ----

def blake2b(b):
    return hashlib.blake2b(b, digest_size=32).digest()


def ed_public(seed):
    return Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes(RAW, serialization.PublicFormat.Raw)


def sign(seed, domain, msg):
    """Ed25519 over domain || 0x00 || msg (docs/PROTOCOL.md "What is signed")."""
    return Ed25519PrivateKey.from_private_bytes(seed).sign(domain.encode() + b"\0" + msg)


P = 2**255 - 19


def ed_pk_to_curve(pk):
    """Montgomery u = (1 + y) / (1 - y) mod p (libsodium crypto_sign_ed25519_pk_to_curve25519)."""
    y = int.from_bytes(pk, "little") & ((1 << 255) - 1)
    u = (1 + y) * pow(1 - y, P - 2, P) % P
    return u.to_bytes(32, "little")


def ed_sk_to_curve(seed):
    """The first half of SHA-512(seed), clamped (crypto_sign_ed25519_sk_to_curve25519)."""
    h = bytearray(hashlib.sha512(seed).digest()[:32])
    h[0] &= 248
    h[31] &= 127
    h[31] |= 64
    return bytes(h)


def box_seed_keypair(seed):
    """libsodium crypto_box_seed_keypair: sk = first half of SHA-512(seed), pk = X25519(sk, 9)."""
    sk = hashlib.sha512(seed).digest()[:32]
    pk = X25519PrivateKey.from_private_bytes(sk).public_key().public_bytes(RAW, serialization.PublicFormat.Raw)
    return pk, sk


def hx(b):
    return b.hex()


def seed_of(byte):
    return bytes([byte]) * 32


# ---- change sets ----

def op(kind, collection, key, value=None):
    out = f_varint(1, kind) + f_bytes(2, collection) + f_bytes(3, key)
    if value is not None:
        out += f_bytes(4, blake2b(value))
    return out


def body(author, feed, seq, prev, time_ms, ops):
    out = f_bytes(1, author) + f_bytes(2, feed) + f_varint(3, seq) + f_bytes(4, prev) + f_varint(5, time_ms)
    for o in ops:
        out += f_bytes(6, o)
    return out


def envelope(b, sig, values):
    out = f_bytes(1, b) + f_bytes(2, sig)
    for i, data in values:
        out += f_bytes(3, f_varint(1, i) + f_bytes(2, data))
    return out


def changeset_vector(name, note, seed, feed, seq, prev, time_ms, ops, erase=None):
    """ops: (kind, collection, key, value or None); erase: an op index whose value is stripped."""
    pk = ed_public(seed)
    encoded = [op(k, c, key, v) for (k, c, key, v) in ops]
    b = body(pk, feed, seq, prev, time_ms, encoded)
    sig = sign(seed, "strata/changeset/v1", b)
    values = [(i, v) for i, (k, c, key, v) in enumerate(ops) if k == 1]
    v = {
        "name": name,
        "kind": "changeset",
        "note": note,
        "seed": hx(seed),
        "feed": feed,
        "seq": seq,
        "prev": hx(prev),
        "time_ms": time_ms,
        "ops": [{"kind": "put" if k == 1 else "delete", "collection": c, "key": hx(key),
                 **({"value": hx(val)} if val is not None else {})} for (k, c, key, val) in ops],
        "public_key": hx(pk),
        "value_hashes": [hx(blake2b(val)) if val is not None else None for (k, c, key, val) in ops],
        "body": hx(b),
        "signed_message": hx(b"strata/changeset/v1\0" + b),
        "signature": hx(sig),
        "entry_hash": hx(blake2b(b)),
        "envelope": hx(envelope(b, sig, values)),
    }
    if erase is not None:
        v["erased_op"] = erase
        v["envelope_erased"] = hx(envelope(b, sig, [(i, d) for (i, d) in values if i != erase]))
    return v, blake2b(b)


def member(id_, name, category, status, joined):
    return f_bytes(1, id_) + f_bytes(2, name) + f_varint(3, category) + f_varint(4, status) + f_bytes(5, joined)


def dues(member_, period, amount, paid):
    return f_bytes(1, member_) + f_bytes(2, period) + f_varint(3, amount) + f_bytes(4, paid)


def changesets():
    s = seed_of(1)
    v1, h1 = changeset_vector(
        "put-v1", "PROTOCOL-vectors.md: one put on a new feed; the value is the 5 bytes 'hello' (not a record)",
        s, "up", 1, bytes(32), 1700000000000, [(1, "member", b"M0001", b"hello")], erase=0)
    v2, h2 = changeset_vector(
        "delete", "the next entry of the same feed: one delete (no value hash, no value)",
        s, "up", 2, h1, 1700000001000, [(2, "member", b"M0001", None)])
    m = member("M0002", "李雷", 1, 1, "2020-07-01")
    d = dues("M0002", "2026-03", 5000, "2026-03-05")
    v3, _ = changeset_vector(
        "multi-op", "three ops: a Member record, a Dues record, a delete; values for ops 0 and 1; "
        "envelope_erased: op 0's value erased",
        s, "up", 3, h2, 1700000002000,
        [(1, "member", b"M0002", m), (1, "dues", b"M0002/2026-03", d), (2, "points", b"M0001/2026-03", None)],
        erase=0)
    v3["records"] = [{"op": 0, "collection": "member", "fields": {"id": "M0002", "name": "李雷", "category": 1,
                                                                 "status": 1, "joined": "2020-07-01"}},
                     {"op": 1, "collection": "dues", "fields": {"member": "M0002", "period": "2026-03",
                                                               "amount": 5000, "paid": "2026-03-05"}}]
    return {"description": "Change sets (docs/PROTOCOL.md \"An entry\"): the body, the bytes signed, the "
            "signature, the entry hash and the envelope, from a seed and the ops. Puts in the unsalted form "
            "(Op.value_hash = BLAKE2b-256 of the value); salted puts: salted.json. Each entry's prev is the "
            "entry hash of the one before. All hex lowercase.",
            "vectors": [v1, v2, v3]}, v1


# ---- keys ----

def keys():
    out = []
    rfc = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
    for name, seed in [("seed-01", seed_of(1)), ("seed-00-1f", bytes(range(32))), ("rfc8032-test1", rfc)]:
        pk = ed_public(seed)
        csk = ed_sk_to_curve(seed)
        cpk = ed_pk_to_curve(pk)
        # the converted secret must give the converted public key
        assert X25519PrivateKey.from_private_bytes(csk).public_key().public_bytes(
            RAW, serialization.PublicFormat.Raw) == cpk
        out.append({"name": name, "kind": "key", "seed": hx(seed), "ed25519_public": hx(pk),
                    "ed25519_secret": hx(seed + pk), "curve25519_public": hx(cpk), "curve25519_secret": hx(csk),
                    "key_file": hx(seed) + "\n"})
    msg = b"strata"
    out.append({"name": "domain-signature", "kind": "signature", "seed": hx(seed_of(1)),
                "domain": "strata/cert/v1", "message": hx(msg),
                "signed_message": hx(b"strata/cert/v1\0" + msg),
                "signature": hx(sign(seed_of(1), "strata/cert/v1", msg))})
    out.append({"name": "rfc8032-test1-raw", "kind": "raw-signature", "seed": hx(rfc), "message": "",
                "signature": hx(Ed25519PrivateKey.from_private_bytes(rfc).sign(b""))})
    return {"description": "Keys (docs/PROTOCOL.md \"Keys\"): an Ed25519 seed, its public key, the 64-byte "
            "secret key as libsodium keeps it (seed || public), the key file's text, and the Curve25519 pair "
            "the node uses for CURVE (libsodium crypto_sign_ed25519_pk_to_curve25519 / "
            "crypto_sign_ed25519_sk_to_curve25519: the public key's Montgomery u = (1+y)/(1-y) mod 2^255-19; "
            "the secret: SHA-512(seed)[0..32] clamped). A domain-separated signature and RFC 8032's test 1 "
            "(no domain) close it.",
            "vectors": out}


# ---- join ----

def join():
    parent, root, child = seed_of(2), seed_of(3), seed_of(5)
    secret = seed_of(4)
    ppk, rpk, cpk = ed_public(parent), ed_public(root), ed_public(child)
    name = "xiamen/huli/hetong"
    tok = (f_bytes(1, "tcp://10.0.0.1:7700") + f_bytes(2, ppk) + f_bytes(3, rpk) + f_bytes(4, secret) +
           f_varint(5, 1700086400000) + f_bytes(6, name) + f_varint(7, 2))
    text = "strata-join:" + base64.urlsafe_b64encode(tok).decode().rstrip("=")
    tpk, tsk = box_seed_keypair(secret)
    msg = ppk + cpk + name.encode()
    sig = sign(child, "strata/join/v1", msg)
    join_msg = f_bytes(1, cpk) + f_bytes(2, name) + f_bytes(3, sig)
    frame = f_bytes(7, join_msg)
    return {"description": "Enrollment (docs/PROTOCOL.md \"Enrollment\"): a JoinToken, its text "
            "(\"strata-join:\" + unpadded base64url), the throwaway CURVE key pair its secret gives "
            "(libsodium crypto_box_seed_keypair: secret = SHA-512(seed)[0..32], public = X25519(secret, 9)), "
            "and the child's join proof: Ed25519 by the child over \"strata/join/v1\" NUL parent key || child "
            "key || org path, sent as Join { key, name, proof } in Frame field 7.",
            "vectors": [
                {"name": "token", "kind": "join-token", "endpoint": "tcp://10.0.0.1:7700",
                 "parent_seed": hx(parent), "parent": hx(ppk), "root_seed": hx(root), "root": hx(rpk),
                 "secret": hx(secret), "expires_ms": 1700086400000, "org_path": name, "role": 2,
                 "token": hx(tok), "text": text, "curve_public": hx(tpk), "curve_secret": hx(tsk)},
                {"name": "proof", "kind": "join-proof", "parent": hx(ppk), "child_seed": hx(child),
                 "child": hx(cpk), "org_path": name, "proof_message": hx(msg),
                 "signed_message": hx(b"strata/join/v1\0" + msg), "signature": hx(sig),
                 "join": hx(join_msg), "frame": hx(frame)},
            ]}


# ---- rotation ----

def rotate():
    issuer, old, new = seed_of(2), seed_of(5), seed_of(6)
    ipk, opk, npk = ed_public(issuer), ed_public(old), ed_public(new)
    msg = ipk + opk + npk
    sig = sign(new, "strata/rotate/v1", msg)
    rec = f_bytes(1, opk) + f_bytes(2, npk) + f_bytes(3, ipk) + f_bytes(4, sig) + f_varint(5, 1700000000000)
    rot = f_bytes(1, npk) + f_bytes(2, sig)
    return {"description": "Key rotation (docs/PROTOCOL.md \"Key rotation\"): the proof is Ed25519 by the NEW "
            "key over \"strata/rotate/v1\" NUL issuer || old key || new key; the same proof is in the Rotation "
            "record (collection rotation, feed trust, key = the new key, written by the old key) and in the "
            "Rotate message (Frame field 11) sent to the issuer.",
            "vectors": [{"name": "rotation", "kind": "rotation-proof", "issuer_seed": hx(issuer),
                         "issuer": hx(ipk), "old_seed": hx(old), "old_key": hx(opk), "new_seed": hx(new),
                         "new_key": hx(npk), "rotated_ms": 1700000000000, "proof_message": hx(msg),
                         "signed_message": hx(b"strata/rotate/v1\0" + msg), "proof": hx(sig),
                         "rotation_record": hx(rec), "rotate": hx(rot), "frame": hx(f_bytes(11, rot))}]}


# ---- bundle ----

def bundle(cs1):
    seed = seed_of(1)
    pk = ed_public(seed)
    env = bytes.fromhex(cs1["envelope"])
    magic = b"STRATA-BUNDLE-1\n"
    header = f_varint(1, 1) + f_bytes(2, pk) + f_bytes(3, "xiamen") + f_bytes(4, pk) + f_varint(5, 1700000005000)
    entries = f_varint(1, 1) + f_bytes(2, env)
    frame = f_bytes(2, entries)
    end = f_bytes(10, f_varint(1, 1))
    records = [header, frame, end]
    data = magic + b"".join(len(r).to_bytes(4, "big") + r for r in records)
    parsed, at = [], len(magic)
    for what, r in zip(["header", "entries", "end"], records):
        parsed.append({"record": what, "offset": at, "length": len(r), "bytes": hx(r)})
        at += 4 + len(r)
    return {"description": "A bundle file (docs/PROTOCOL.md \"Bundles\"): the 16-byte magic, then records, "
            "each a 4-byte big-endian length and that many bytes: a BundleHeader, a Frame holding Entries "
            "(batch = the running count of entries through this frame, so 1 here; the envelope of "
            "changeset.json put-v1), and a Frame holding BundleEnd { entries = 1 }. offset: where the record's "
            "length starts.",
            "vectors": [{"name": "one-entry", "kind": "bundle", "node_seed": hx(seed), "node": hx(pk),
                         "node_name": "xiamen", "root": hx(pk), "created_ms": 1700000005000, "version": 1,
                         "envelopes": [cs1["envelope"]], "batch": 1, "end_entries": 1,
                         "magic": hx(magic), "records": parsed, "file": hx(data)}]}


def write(name, doc):
    with open(os.path.join(HERE, name), "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=2, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    cs, first = changesets()
    write("changeset.json", cs)
    write("keys.json", keys())
    write("join.json", join())
    write("rotate.json", rotate())
    write("bundle.json", bundle(first))
