'use strict'
// Parses X12 files with node-x12 (an implementation independent of ours) in
// strict mode, which throws on envelope errors (IEA01/GE01/SE01 counts and
// IEA02/GE02/SE02 control numbers), and prints one JSON line per file:
//   {"file", "isa": [elements], "iea": [...], "groups": [{"gs", "ge",
//    "transactions": [{"st", "se", "segments": [[tag, element, ...], ...]}]}]}
// or {"file", "error"} when node-x12 rejects it. Segments are those between
// ST and SE; element values are as node-x12 reads them (composites joined
// by their separator). Used by x12/independent_test.go.
const fs = require('fs')
const { X12Parser } = require('node-x12')

const values = (seg) => seg.elements.map((e) => e.value)
let failed = false
for (const file of process.argv.slice(2)) {
  try {
    const ic = new X12Parser(true).parse(fs.readFileSync(file, 'utf8'))
    if (ic.interchanges !== undefined) throw new Error('more than one interchange in the file')
    const out = {
      file,
      isa: values(ic.header),
      iea: values(ic.trailer),
      groups: ic.functionalGroups.map((g) => ({
        gs: values(g.header),
        ge: values(g.trailer),
        transactions: g.transactions.map((t) => ({
          st: values(t.header),
          se: values(t.trailer),
          segments: t.segments.map((s) => [s.tag, ...values(s)])
        }))
      }))
    }
    process.stdout.write(JSON.stringify(out) + '\n')
  } catch (e) {
    failed = true
    process.stdout.write(JSON.stringify({ file, error: String(e && e.message ? e.message : e) }) + '\n')
  }
}
process.exitCode = failed ? 1 : 0
