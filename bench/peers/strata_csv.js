// SPDX-License-Identifier: MIT
// The peers' records as a CSV for `strata member import`: record i of
// common.js, the same fields and the same bytes of content, in Strata's
// member columns (the JSON's branch and pad become the address).
//   node strata_csv.js --count N [--from I]
'use strict'

const { record, args } = require('./common')

const a = args(process.argv.slice(2), { count: '1000', from: '0' })
const from = Number(a.from)
const end = from + Number(a.count)
const q = (s) => /[",\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s
const out = ['id,name,category,joined,phone,status,address']
for (let i = from; i < end; i++) {
  const r = record(i)
  out.push([r.id, r.name, 'full', r.joined, r.phone, r.status, r.branch + ' ' + r.pad].map(q).join(','))
  if (out.length === 10000) {
    process.stdout.write(out.join('\n') + '\n')
    out.length = 0
  }
}
if (out.length) process.stdout.write(out.join('\n') + '\n')
