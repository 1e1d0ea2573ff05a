// dependency-review-action's verdict on one declared license, as its src/licenses.ts and
// src/spdx.ts decide it: reads JSON lines {"license": str|null, "allow": [...]} or
// {"license": ..., "deny": [...]} on stdin, writes one JSON line per input:
// {"verdict": "ok" | "forbidden" | "unresolved" | "unlicensed"}.
const readline = require('readline')
const spdxSatisfies = require('spdx-satisfies')
const spdxlib = require('@onebeyond/spdx-license-satisfies')
const parse = require('spdx-expression-parse')

const replaceOtherRegex = /(?<![\w-])OTHER(?![\w-])/g
const clean = expr => expr.replace(replaceOtherRegex, 'LicenseRef-clearlydefined-OTHER')
const isValid = expr => { try { parse(clean(expr)); return true } catch (_) { return false } }
const satisfies = (expr, allow) => { try { return spdxSatisfies(clean(expr), allow) } catch (_) { return false } }
const satisfiesAny = (expr, licenses) => { try { return spdxlib.satisfiesAny(clean(expr), licenses) } catch (_) { return false } }

function verdict({license, allow, deny}) {
  // The GitHub license API fallback for null licenses is left out: no network here.
  if (license === null || license === undefined) return 'unlicensed'
  if (license === 'NOASSERTION') return 'unlicensed'
  allow = allow && allow.filter(l => !l.includes(' AND ') && !l.includes(' OR '))
  if (allow !== undefined) {
    if (!isValid(license)) return 'unresolved'
    return satisfies(license, allow) ? 'ok' : 'forbidden'
  }
  if (deny !== undefined) {
    if (!isValid(license)) return 'unresolved'
    return satisfiesAny(license, deny) ? 'forbidden' : 'ok'
  }
  return 'ok'
}

const lines = readline.createInterface({input: process.stdin})
lines.on('line', line => {
  if (!line.trim()) return
  process.stdout.write(JSON.stringify({verdict: verdict(JSON.parse(line))}) + '\n')
})
