// SPDX-License-Identifier: MIT
// Shared by the peer benchmarks: the same ~200-byte record for every
// system (a member row as JSON, padded to RECORD_BYTES), argument parsing,
// peak RSS, and the one JSON line each script prints.
'use strict'

const RECORD_BYTES = 200

// Record i: what a branch secretary types for one member, as the peers
// would store it. Deterministic, so every run writes the same bytes.
function record (i) {
  const id = 'M' + String(i).padStart(9, '0')
  const o = {
    id,
    name: 'Member ' + i,
    branch: 'xiamen/huli/s' + (i % 97),
    joined: '20' + String(10 + (i % 15)) + '-0' + (1 + (i % 9)) + '-1' + (i % 9),
    phone: '1' + String(3000000000 + ((i * 7919) % 999999999)),
    status: 'active',
    pad: ''
  }
  const base = JSON.stringify(o).length
  o.pad = noise(i, Math.max(0, RECORD_BYTES - base))
  return o
}

// Letters from a xorshift seeded by i: a field with real content (a note,
// an address), so that HTTP compression does not shrink it to nothing.
function noise (i, len) {
  const abc = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'
  let x = (i * 2654435761 + 1) >>> 0
  let s = ''
  for (let k = 0; k < len; k++) {
    x ^= x << 13; x >>>= 0
    x ^= x >>> 17
    x ^= x << 5; x >>>= 0
    s += abc[x % abc.length]
  }
  return s
}

function recordBuffer (i) {
  return Buffer.from(JSON.stringify(record(i)))
}

// --name value pairs and --flag switches into an object of strings/true.
function args (argv, defaults) {
  const out = Object.assign({}, defaults)
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (!a.startsWith('--')) throw new Error('unexpected argument ' + a)
    const k = a.slice(2)
    if (i + 1 < argv.length && !argv[i + 1].startsWith('--')) out[k] = argv[++i]
    else out[k] = true
  }
  return out
}

// Peak RSS of this process so far, KiB (getrusage's ru_maxrss).
function peakRssKib () {
  return process.resourceUsage().maxRSS
}

function cpuS () {
  const u = process.resourceUsage()
  return (u.userCPUTime + u.systemCPUTime) / 1e6
}

function now () {
  return performance.now() / 1000
}

function version (pkg) {
  return require(require('path').join(__dirname, 'node_modules', pkg, 'package.json')).version
}

function emit (obj) {
  process.stdout.write(JSON.stringify(obj) + '\n')
}

module.exports = { RECORD_BYTES, record, recordBuffer, args, peakRssKib, cpuS, now, version, emit }
