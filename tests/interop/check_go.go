// SPDX-License-Identifier: MIT

// check_go verifies what Strata produced (interop_dump's output) with an
// implementation Strata did not write: Go's golang.org/x/mod/sumdb/note
// (the author's signed note, from the C2SP verifier key Strata prints) and
// golang.org/x/mod/sumdb/tlog (tree hashes, CheckRecord, CheckTree). x/mod
// has no cosignature type, so the witness's line is checked by a Verifier
// written here from the C2SP tlog-cosignature/v1 text, with crypto/ed25519.
// Each check is also run on a tampered copy, which must fail: a checker
// that accepts anything fails this test.
//
// usage: check_go FILE   (exit 0: every check held)
package main

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// cosigVerifier: C2SP tlog-cosignature/v1 (signature type 0x04).
type cosigVerifier struct {
	name string
	key  ed25519.PublicKey
}

func (v cosigVerifier) Name() string { return v.name }

func (v cosigVerifier) KeyHash() uint32 {
	h := sha256.New()
	h.Write([]byte(v.name + "\n"))
	h.Write([]byte{0x04})
	h.Write(v.key)
	return binary.BigEndian.Uint32(h.Sum(nil))
}

func (v cosigVerifier) Verify(msg, sig []byte) bool {
	if len(sig) != 8+ed25519.SignatureSize {
		return false
	}
	t := binary.BigEndian.Uint64(sig[:8])
	m := append([]byte(fmt.Sprintf("cosignature/v1\ntime %d\n", t)), msg...)
	return ed25519.Verify(v.key, m, sig[8:])
}

type dump struct {
	vkey, witness string
	note          []byte
	leaves        [][]byte
	roots         map[int64]tlog.Hash
	incl, cons    [][3]string
}

var failures int

func fail(format string, args ...interface{}) {
	failures++
	fmt.Printf("FAIL: "+format+"\n", args...)
}

func unhex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		fail("bad hex %q", s)
	}
	return b
}

func hashes(s string) []tlog.Hash {
	if s == "-" {
		return nil
	}
	b := unhex(s)
	out := make([]tlog.Hash, len(b)/32)
	for i := range out {
		copy(out[i][:], b[32*i:])
	}
	return out
}

func read(path string) *dump {
	f, err := os.Open(path)
	if err != nil {
		fmt.Println(err)
		os.Exit(2)
	}
	defer f.Close()
	d := &dump{roots: map[int64]tlog.Hash{}}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		w := strings.Fields(sc.Text())
		switch w[0] {
		case "vkey":
			d.vkey = w[1]
		case "witness":
			d.witness = w[1]
		case "note":
			d.note, _ = base64.StdEncoding.DecodeString(w[1])
		case "leaf":
			d.leaves = append(d.leaves, unhex(w[2]))
		case "root":
			n, _ := strconv.ParseInt(w[1], 10, 64)
			var h tlog.Hash
			copy(h[:], unhex(w[2]))
			d.roots[n] = h
		case "incl":
			d.incl = append(d.incl, [3]string{w[1], w[2], w[3]})
		case "cons":
			d.cons = append(d.cons, [3]string{w[1], w[2], w[3]})
		}
	}
	return d
}

// The tree hashes, computed here by x/mod from the entry hashes alone.
func checkRoots(d *dump) {
	var stored []tlog.Hash
	r := tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(idx))
		for i, x := range idx {
			out[i] = stored[x]
		}
		return out, nil
	})
	for i, eh := range d.leaves {
		hs, err := tlog.StoredHashes(int64(i), eh, r)
		if err != nil {
			fail("StoredHashes: %v", err)
			return
		}
		stored = append(stored, hs...)
		th, err := tlog.TreeHash(int64(i+1), r)
		if err != nil || th != d.roots[int64(i+1)] {
			fail("tree of %d entries: x/mod %v, Strata %v", i+1, th, d.roots[int64(i+1)])
		}
	}
}

func checkProofs(d *dump) (int, int) {
	for _, p := range d.incl {
		seq, _ := strconv.ParseInt(p[0], 10, 64)
		size, _ := strconv.ParseInt(p[1], 10, 64)
		proof := tlog.RecordProof(hashes(p[2]))
		leaf := tlog.RecordHash(d.leaves[seq-1])
		if err := tlog.CheckRecord(proof, size, d.roots[size], seq-1, leaf); err != nil {
			fail("inclusion of #%d in %d: %v", seq, size, err)
		}
		if len(proof) > 0 {
			proof[len(proof)/2][3] ^= 1
			if tlog.CheckRecord(proof, size, d.roots[size], seq-1, leaf) == nil {
				fail("a tampered inclusion proof of #%d in %d passed", seq, size)
			}
		}
	}
	for _, p := range d.cons {
		m, _ := strconv.ParseInt(p[0], 10, 64)
		n, _ := strconv.ParseInt(p[1], 10, 64)
		proof := tlog.TreeProof(hashes(p[2]))
		if err := tlog.CheckTree(proof, n, d.roots[n], m, d.roots[m]); err != nil {
			fail("consistency %d -> %d: %v", m, n, err)
		}
		wrong := d.roots[m]
		wrong[5] ^= 1
		if tlog.CheckTree(proof, n, d.roots[n], m, wrong) == nil {
			fail("consistency %d -> %d passed with another old root", m, n)
		}
	}
	return len(d.incl), len(d.cons)
}

func checkNote(d *dump) {
	v, err := note.NewVerifier(d.vkey)
	if err != nil {
		fail("x/mod reads Strata's verifier key %q: %v", d.vkey, err)
		return
	}
	wkey := unhex(d.witness)
	cv := cosigVerifier{name: "strata/" + d.witness, key: ed25519.PublicKey(wkey)}
	n, err := note.Open(d.note, note.VerifierList(v, cv))
	if err != nil {
		fail("x/mod opens Strata's signed note: %v\n%s", err, d.note)
		return
	}
	if len(n.Sigs) != 2 || len(n.UnverifiedSigs) != 0 {
		fail("want the author's signature and the witness's cosignature verified, got %d (%d unverified)",
			len(n.Sigs), len(n.UnverifiedSigs))
	}
	lines := strings.Split(n.Text, "\n")
	size := int64(len(d.leaves))
	root := d.roots[size]
	want := fmt.Sprintf("%s/report\n%d\n%s\n", v.Name(), size, base64.StdEncoding.EncodeToString(root[:]))
	if len(lines) != 4 || n.Text != want {
		fail("checkpoint body %q, want %q", n.Text, want)
	}
	start := len(want) + 1 // the first signature line: the author's
	line := d.note[start:]
	line = line[:bytes.IndexByte(line, '\n')]
	sig := start + bytes.LastIndexByte(line, ' ') + 10
	for _, i := range []int{len(want) - 5, sig} { // the root, then the author's signature
		bad := append([]byte(nil), d.note...)
		bad[i] ^= 1
		if _, err := note.Open(bad, note.VerifierList(v, cv)); err == nil {
			fail("a note tampered at byte %d opened", i)
		}
	}
}

func main() {
	if len(os.Args) != 2 {
		fmt.Println("usage: check_go FILE")
		os.Exit(2)
	}
	d := read(os.Args[1])
	if len(d.leaves) == 0 || d.note == nil {
		fmt.Println("FAIL: nothing to check")
		os.Exit(1)
	}
	checkRoots(d)
	ni, nc := checkProofs(d)
	checkNote(d)
	if failures > 0 {
		fmt.Printf("%d failures\n", failures)
		os.Exit(1)
	}
	fmt.Printf("golang.org/x/mod/sumdb verified Strata's %d tree hashes, %d inclusion and %d consistency proofs, "+
		"the signed checkpoint (author signature by note.NewVerifier from Strata's vkey; cosignature/v1 by a "+
		"verifier written from the C2SP text)\n", len(d.roots), ni, nc)
}
