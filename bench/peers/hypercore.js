// SPDX-License-Identifier: MIT
// The Hypercore side of Strata's peer benchmark (bench/run --only peers).
// Writes N ~200-byte records into a Hypercore (one append per record, and
// in batches of --batch), then a second core in another process (its own
// core, event loop and memory, as a second node would have) replicates the
// batched core from it over TCP on 127.0.0.1 through Hypercore's replication
// stream (Noise-encrypted, as in production). Prints one JSON line:
// entries/s of each write and of the replication, the bytes the
// replication's TCP connection carried both ways (payload, counted by the
// receiver's socket), and the peak RSS of the writer and the receiver.
//   node hypercore.js --n N --dir DIR [--single-n M] [--batch B]
// DIR is created and left behind (the caller removes it).
'use strict'

const fs = require('fs')
const net = require('net')
const path = require('path')
const { fork } = require('child_process')
const Hypercore = require('hypercore')
const c = require('./common.js')

async function receiver (a) {
  const n = Number(a.n)
  const clone = new Hypercore(a.dir, Buffer.from(a.key, 'hex'))
  await clone.ready()
  const cpu0 = c.cpuS()
  const t0 = c.now()
  const socket = net.connect(Number(a.port), '127.0.0.1')
  socket.setNoDelay(true)
  const stream = clone.replicate(true)
  socket.pipe(stream).pipe(socket)
  await clone.download({ start: 0, end: n }).done()
  const t1 = c.now()
  const got = clone.contiguousLength
  // the last record must read back as written
  const last = await clone.get(n - 1)
  if (got < n || !last.equals(c.recordBuffer(n - 1))) throw new Error('receiver has ' + got + ' of ' + n)
  const res = {
    replicate_s: t1 - t0,
    wire_bytes: socket.bytesRead + socket.bytesWritten,
    wire_bytes_to_receiver: socket.bytesRead,
    receiver_cpu_s: c.cpuS() - cpu0,
    receiver_peak_rss_kib: c.peakRssKib()
  }
  socket.destroy()
  await clone.close()
  process.send(res)
}

async function main (a) {
  const n = Number(a.n)
  const singleN = Number(a['single-n'] || n)
  const batch = Number(a.batch)
  if (!(n > 0) || !(singleN > 0) || !(batch > 0) || !a.dir) throw new Error('usage: hypercore.js --n N --dir DIR [--single-n M] [--batch B]')
  fs.mkdirSync(a.dir, { recursive: true })
  const out = { peer: 'hypercore', version: c.version('hypercore'), node: process.version, n, record_bytes: c.RECORD_BYTES }

  // 1. one append per record: each append signs a new tree root
  const single = new Hypercore(path.join(a.dir, 'single'))
  await single.ready()
  let t0 = c.now()
  for (let i = 0; i < singleN; i++) await single.append(c.recordBuffer(i))
  out.write_single_n = singleN
  out.write_single_s = c.now() - t0
  out.write_single_per_s = singleN / out.write_single_s
  await single.close()
  fs.rmSync(path.join(a.dir, 'single'), { recursive: true, force: true })

  // 2. appends of --batch records: one signature per batch
  const core = new Hypercore(path.join(a.dir, 'writer'))
  await core.ready()
  t0 = c.now()
  for (let i = 0; i < n; i += batch) {
    const blocks = []
    for (let j = i; j < Math.min(n, i + batch); j++) blocks.push(c.recordBuffer(j))
    await core.append(blocks)
  }
  out.write_batched_s = c.now() - t0
  out.write_batched_per_s = n / out.write_batched_s
  out.batch = batch
  out.writer_peak_rss_kib_after_writes = c.peakRssKib()

  // 3. replication to a core in another process, over TCP
  const server = net.createServer(socket => {
    socket.setNoDelay(true)
    const stream = core.replicate(false)
    socket.pipe(stream).pipe(socket)
    socket.on('error', () => {})
    stream.on('error', () => {})
  })
  await new Promise(resolve => server.listen(0, '127.0.0.1', resolve))
  const cpu0 = c.cpuS()
  const child = fork(__filename, ['--role', 'recv', '--n', String(n), '--dir', path.join(a.dir, 'reader'),
    '--key', core.key.toString('hex'), '--port', String(server.address().port)])
  const res = await new Promise((resolve, reject) => {
    child.on('message', resolve)
    child.on('exit', code => reject(new Error('receiver exited with ' + code)))
  })
  out.writer_cpu_s_during_replication = c.cpuS() - cpu0
  Object.assign(out, res)
  out.replicate_per_s = n / res.replicate_s
  out.wire_bytes_per_entry = res.wire_bytes / n
  out.writer_peak_rss_kib = c.peakRssKib()
  child.kill()
  server.close()
  await core.close()
  c.emit(out)
  process.exit(0)
}

const a = c.args(process.argv.slice(2), { n: '100000', batch: '1000', role: 'main' })
;(a.role === 'recv' ? receiver(a) : main(a)).catch(err => {
  console.error('hypercore.js: ' + (err && err.stack ? err.stack : err))
  process.exit(1)
})
