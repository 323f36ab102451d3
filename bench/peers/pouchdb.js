// SPDX-License-Identifier: MIT
// The PouchDB side of Strata's peer benchmark (bench/run --only peers).
// Writes N ~200-byte documents into a PouchDB database (LevelDB on disk,
// pouchdb-node): with bulkDocs in batches of --batch, and (for --single-n
// of them, in another database) one put per document. Then replicates the
// bulk database into a new one twice, each time in a fresh process (its
// own memory, as a second node would have): locally (PouchDB.replicate
// between two on-disk databases) and over HTTP on 127.0.0.1, from a third
// process serving the source with express-pouchdb. Prints one JSON line:
// documents/s of each write and replication, the bytes the HTTP
// replication's connections carried both ways (counted on the server's
// sockets), and peak RSS of each process.
//   node pouchdb.js --n N --dir DIR [--single-n M] [--batch B] [--batch-size S]
// --batch-size is PouchDB.replicate's batch_size (default: PouchDB's, 100).
// DIR is created and left behind (the caller removes it).
'use strict'

const fs = require('fs')
const path = require('path')
const { fork } = require('child_process')
const c = require('./common.js')

function pouch (dir) {
  return require('pouchdb-node').defaults({ prefix: dir + path.sep })
}

function doc (i) {
  const r = c.record(i)
  r._id = r.id
  return r
}

function replOpts (a) {
  return a['batch-size'] ? { batch_size: Number(a['batch-size']) } : {}
}

// A child: replicates SOURCE (a database name in --dir, or a URL) into a
// new database, then reports time, docs and its peak RSS.
async function replicateChild (a) {
  const P = pouch(a.dir)
  const src = a.source.startsWith('http') ? new (require('pouchdb-node'))(a.source) : new P(a.source)
  const dst = new P(a.target)
  const cpu0 = c.cpuS()
  const t0 = c.now()
  const r = await P.replicate(src, dst, replOpts(a))
  const t1 = c.now()
  const info = await dst.info()
  if (info.doc_count !== Number(a.n) || r.docs_written !== Number(a.n)) {
    throw new Error('replicated ' + info.doc_count + ' of ' + a.n + ' documents')
  }
  const res = { replicate_s: t1 - t0, cpu_s: c.cpuS() - cpu0, peak_rss_kib: c.peakRssKib() }
  await src.close()
  await dst.close()
  process.send(res)
}

// A child: serves --dir over HTTP with express-pouchdb and counts the
// bytes of every connection it accepted; answers 'stats' over IPC.
async function serverChild (a) {
  const express = require('express')
  const expressPouch = require('express-pouchdb')
  const P = pouch(a.dir)
  const app = express()
  app.use('/', expressPouch(P, { mode: 'minimumForPouchDB', inMemoryConfig: true, logPath: path.join(a.dir, 'log.txt') }))
  let closedBytes = 0
  const open = new Set()
  const server = app.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }))
  server.on('connection', s => {
    open.add(s)
    s.on('close', () => { closedBytes += s.bytesRead + s.bytesWritten; open.delete(s) })
  })
  const cpu0 = c.cpuS()
  process.on('message', m => {
    if (m !== 'stats') return
    let bytes = closedBytes
    for (const s of open) bytes += s.bytesRead + s.bytesWritten
    process.send({ wire_bytes: bytes, connections_open: open.size, cpu_s: c.cpuS() - cpu0, peak_rss_kib: c.peakRssKib() })
  })
}

function run (args, opts = {}) {
  const child = fork(__filename, args, { cwd: opts.cwd })
  const first = new Promise((resolve, reject) => {
    child.once('message', resolve)
    child.once('exit', code => reject(new Error('child ' + args.join(' ') + ' exited with ' + code)))
  })
  return { child, first }
}

async function main (a) {
  const n = Number(a.n)
  const singleN = Number(a['single-n'] || n)
  const batch = Number(a.batch)
  if (!(n > 0) || !(singleN > 0) || !(batch > 0) || !a.dir) throw new Error('usage: pouchdb.js --n N --dir DIR [--single-n M] [--batch B] [--batch-size S]')
  fs.mkdirSync(a.dir, { recursive: true })
  const P = pouch(a.dir)
  const out = {
    peer: 'pouchdb',
    version: c.version('pouchdb-node'),
    express_pouchdb: c.version('express-pouchdb'),
    node: process.version,
    n,
    record_bytes: c.RECORD_BYTES,
    replicate_batch_size: a['batch-size'] ? Number(a['batch-size']) : 100
  }

  // 1. one put per document
  const one = new P('single')
  let t0 = c.now()
  for (let i = 0; i < singleN; i++) await one.put(doc(i))
  out.write_single_n = singleN
  out.write_single_s = c.now() - t0
  out.write_single_per_s = singleN / out.write_single_s
  await one.destroy()

  // 2. bulkDocs of --batch documents
  const src = new P('src')
  t0 = c.now()
  for (let i = 0; i < n; i += batch) {
    const docs = []
    for (let j = i; j < Math.min(n, i + batch); j++) docs.push(doc(j))
    const res = await src.bulkDocs(docs)
    if (res.some(r => r.error)) throw new Error('bulkDocs: ' + JSON.stringify(res.find(r => r.error)))
  }
  out.write_batched_s = c.now() - t0
  out.write_batched_per_s = n / out.write_batched_s
  out.batch = batch
  out.writer_peak_rss_kib = c.peakRssKib()
  await src.close()

  const common = ['--n', String(n), '--dir', a.dir]
  if (a['batch-size']) common.push('--batch-size', String(a['batch-size']))

  // 3. local replication, in a fresh process
  let r = run(['--role', 'replicate', '--source', 'src', '--target', 'local', ...common])
  let res = await r.first
  out.local_replicate_s = res.replicate_s
  out.local_replicate_per_s = n / res.replicate_s
  out.local_cpu_s = res.cpu_s
  out.local_peak_rss_kib = res.peak_rss_kib
  fs.rmSync(path.join(a.dir, 'local'), { recursive: true, force: true })

  // 4. HTTP replication: express-pouchdb serves src; a client pulls it
  const srv = run(['--role', 'serve', '--dir', a.dir], { cwd: a.dir })
  const { port } = await srv.first
  r = run(['--role', 'replicate', '--source', 'http://127.0.0.1:' + port + '/src', '--target', 'http', ...common])
  res = await r.first
  out.http_replicate_s = res.replicate_s
  out.http_replicate_per_s = n / res.replicate_s
  out.http_client_cpu_s = res.cpu_s
  out.http_client_peak_rss_kib = res.peak_rss_kib
  srv.child.send('stats')
  const stats = await new Promise(resolve => srv.child.once('message', resolve))
  out.http_wire_bytes = stats.wire_bytes
  out.http_wire_bytes_per_doc = stats.wire_bytes / n
  out.http_server_cpu_s = stats.cpu_s
  out.http_server_peak_rss_kib = stats.peak_rss_kib
  srv.child.kill()
  c.emit(out)
  process.exit(0)
}

const a = c.args(process.argv.slice(2), { n: '100000', batch: '1000', role: 'main' })
const roles = { main, replicate: replicateChild, serve: serverChild }
roles[a.role](a).catch(err => {
  console.error('pouchdb.js: ' + (err && err.stack ? err.stack : err))
  process.exit(1)
})
