"""Our license verdicts on real declared licenses, side by side with dependency-review-action's.

The corpus (tests/fixtures/license-corpus.json) is what packages' authors published, not
written here: the `license` field of every package.json in a few large npm dependency trees
and the `License-Expression` (else a one-line `License`) of Python distributions. Each entry
is {"license": str | null, "source": "npm:name@version" | "pypi:name@version"}.

    .venv/bin/python bench/license_corpus.py --collect DIR [DIR ...]   # rebuild the corpus
    .venv/bin/python bench/license_corpus.py [--markdown]              # compare

--collect reads DIR/node_modules/**/package.json and the metadata of the Python
distributions this interpreter sees; to rebuild the committed corpus:

    mkdir /tmp/a && (cd /tmp/a && npm install --ignore-scripts probot eslint jest webpack \
        typescript @babel/core express next)
    mkdir /tmp/b && (cd /tmp/b && npm install --ignore-scripts --legacy-peer-deps \
        react-scripts @angular-devkit/build-angular gatsby @nestjs/cli)
    .venv/bin/python bench/license_corpus.py --collect /tmp/a /tmp/b --registry 4000 --pypi 3000

--registry N also asks the npm registry for the latest release of up to N packages those trees
name as development, peer or optional dependencies without installing them (a wider and less
polished sample: old packages, personal projects, odd declarations); --pypi N draws N projects
at random (seed 0) from every name PyPI lists and takes their declared license.

The comparison judges every entry under two example policies (an allow list and a deny list)
with bot.licensing.policy and, where `npm install --prefix bench/peer_spdx` has been run, with
dependency-review-action's own logic and libraries (bench/peer_spdx/judge.js); it prints
the verdict counts, the agreement, each distinct disagreement with its reason, and how fast we
judge.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import importlib.metadata
import json
import re
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from bot.licensing.policy import ALLOWED, DENIED, UNKNOWN, Policy, normalise  # noqa: E402

CORPUS = ROOT / "tests" / "fixtures" / "license-corpus.json"
# The peer's verdict on each distinct declaration, under each example policy: written by
# --record-peer, so that the tests compare without Node.js.
PEER_RECORD = ROOT / "tests" / "fixtures" / "license-corpus-peer.json"
PEER = HERE / "peer_spdx"
POLICIES = {
    "allow": ["MIT", "Apache-2.0", "BSD-2-Clause", "BSD-3-Clause", "ISC", "0BSD", "Unlicense", "CC0-1.0", "Python-2.0", "MPL-2.0"],
    "deny": ["GPL-2.0-only", "GPL-3.0-only", "AGPL-3.0-only", "AGPL-3.0-or-later", "GPL-3.0-or-later", "SSPL-1.0"],
}
# The peer's words in ours: "unresolved" (not an expression) and "unlicensed" (none declared)
# are what we call unknown.
PEER_IN_OUR_WORDS = {"ok": ALLOWED, "forbidden": DENIED, "unresolved": UNKNOWN, "unlicensed": UNKNOWN}


def collect(directories: list[Path]) -> list[dict]:
    entries: dict[tuple, dict] = {}
    for directory in directories:
        for manifest in sorted((directory / "node_modules").glob("**/package.json")):
            try:
                package = json.loads(manifest.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if not isinstance(package, dict) or not package.get("name") or not package.get("version"):
                continue  # a test fixture or a nested folder's stub, not a published package
            license = package.get("license")
            if isinstance(license, dict):
                license = license.get("type")
            if license is None and isinstance(package.get("licenses"), list):
                # npm's old form: a list of {type, url}, read by npm as a choice.
                kinds = [item.get("type") for item in package["licenses"] if isinstance(item, dict) and item.get("type")]
                license = " OR ".join(kinds) or None
            if license is not None and not isinstance(license, str):
                continue
            source = f"npm:{package['name']}@{package['version']}"
            entries[(license, source)] = {"license": license, "source": source}
    for distribution in importlib.metadata.distributions():
        metadata = distribution.metadata
        license = metadata.get("License-Expression")
        if not license:
            text = (metadata.get("License") or "").strip()
            license = text if text and "\n" not in text and len(text) < 60 else None
        source = f"pypi:{metadata['Name']}@{metadata['Version']}"
        entries[(license, source)] = {"license": license, "source": source}
    return sorted(entries.values(), key=lambda entry: entry["source"])


def named_elsewhere(directories: list[Path], known: set[str]) -> list[str]:
    """Packages the installed ones name as development or peer dependencies but that were not
    installed: a wider, less popular sample of npm."""
    names: set[str] = set()
    for directory in directories:
        for manifest in (directory / "node_modules").glob("**/package.json"):
            try:
                package = json.loads(manifest.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            for field in ("devDependencies", "peerDependencies", "optionalDependencies"):
                if isinstance(package, dict) and isinstance(package.get(field), dict):
                    names.update(package[field])
    return sorted(names - known)


async def from_registry(names: list[str], registry: str = "https://registry.npmjs.org") -> list[dict]:
    """Each package's latest published license field, from the npm registry."""
    import aiohttp

    limit = asyncio.Semaphore(16)
    found: list[dict] = []

    async def one(session: aiohttp.ClientSession, name: str) -> None:
        async with limit:
            try:
                async with session.get(f"{registry}/{name.replace('/', '%2F')}/latest") as answer:
                    if answer.status != 200:
                        return
                    package = await answer.json(content_type=None)
            except (aiohttp.ClientError, asyncio.TimeoutError, ValueError):
                return
        license = package.get("license")
        if isinstance(license, dict):
            license = license.get("type")
        if license is None or isinstance(license, str):
            found.append({"license": license, "source": f"npm:{package.get('name', name)}@{package.get('version', '?')}"})

    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=20)) as session:
        await asyncio.gather(*(one(session, name) for name in names))
    return found


async def from_pypi(count: int, seed: int = 0) -> list[dict]:
    """The declared license (``license_expression``, else a one-line ``license``) of ``count``
    projects drawn at random (seeded) from every name on PyPI: popular or not, old or new."""
    import random

    import aiohttp

    limit = asyncio.Semaphore(16)
    found: list[dict] = []
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
        async with session.get("https://pypi.org/simple/") as answer:
            names = sorted(set(re.findall(r'<a href="([^/"]+)/"', await answer.text())))
        sample = random.Random(seed).sample(names, count)

        async def one(name: str) -> None:
            async with limit:
                try:
                    async with session.get(f"https://pypi.org/pypi/{name}/json") as answer:
                        if answer.status != 200:
                            return
                        info = (await answer.json())["info"]
                except (aiohttp.ClientError, asyncio.TimeoutError, ValueError, KeyError):
                    return
            license = info.get("license_expression")
            if not license:
                text = (info.get("license") or "").strip()
                license = text if text and "\n" not in text and len(text) < 60 else None
            found.append({"license": license, "source": f"pypi:{info.get('name', name)}@{info.get('version', '?')}"})

        await asyncio.gather(*(one(name) for name in sample))
    return found


def peer_verdicts(corpus: list[dict], kind: str, entries: list[str]) -> list[str] | None:
    if not (PEER / "node_modules").is_dir():
        return None
    lines = "".join(json.dumps({"license": e["license"], kind: entries}) + "\n" for e in corpus)
    answer = subprocess.run(["node", str(PEER / "judge.js")], input=lines, capture_output=True, text=True, check=True)
    return [PEER_IN_OUR_WORDS[json.loads(line)["verdict"]] for line in answer.stdout.splitlines()]


def why_we_differ(license: str | None, ours: str, peer: str) -> str:
    """The reason behind a disagreement, in the README's terms."""
    text = license or ""
    words = text.replace("(", " ").replace(")", " ").split()
    if ours != UNKNOWN and peer == UNKNOWN and any(w.upper() not in ("AND", "OR", "WITH") and w != normalise(w) for w in words):
        return "letter case: SPDX ids match whatever their case, the peer's parser refuses them"
    if ours == ALLOWED and peer == UNKNOWN:
        return "one choice is an allowed SPDX license; the peer cannot read the other"
    if any(w in ("and", "or", "with") for w in words):
        return "a lower-case operator: we read it, the peer misreads it"
    if " WITH " in text and ours == ALLOWED:
        return "an exception only adds permissions to an allowed license"
    if " OR " in text and ours == ALLOWED and peer == DENIED:
        return "OR: one choice avoids every denied license, the peer forbids it all the same"
    if ours == UNKNOWN and "LicenseRef-" in text:
        return "a LicenseRef the policy does not name: unknown to us, the peer judges the name alone"
    return f"ours {ours}, the peer's {peer}"


def compare(corpus: list[dict], markdown: bool) -> None:
    distinct = collections.Counter(entry["license"] for entry in corpus)
    print(f"corpus: {len(corpus)} packages ({sum(e['source'].startswith('npm:') for e in corpus)} npm, "
          f"{sum(e['source'].startswith('pypi:') for e in corpus)} PyPI), {len(distinct)} distinct declarations")
    rows = []
    for kind, entries in POLICIES.items():
        policy = Policy.from_config({kind: entries})
        started = time.perf_counter()
        ours = [policy.judge(entry["license"]).verdict for entry in corpus]
        elapsed = time.perf_counter() - started
        counts = collections.Counter(ours)
        print(f"\n{kind} policy: ours {dict(counts)}; {len(corpus) / elapsed:,.0f} judgements a second")
        peer = peer_verdicts(corpus, kind, entries)
        if peer is None:
            print("  (no peer: run `npm install --prefix bench/peer_spdx` to compare)")
            continue
        agree = sum(a == b for a, b in zip(ours, peer))
        print(f"  peer {dict(collections.Counter(peer))}")
        print(f"  agreement: {agree} of {len(corpus)} packages ({agree / len(corpus):.1%})")
        differences: collections.Counter = collections.Counter()
        for entry, a, b in zip(corpus, ours, peer):
            if a != b:
                differences[(entry["license"], a, b)] += 1
        for (license, a, b), count in differences.most_common():
            reason = why_we_differ(license, a, b)
            print(f"  {count:5d} × {license!r}: ours {a}, peer {b} ({reason})")
            rows.append((kind, license, count, a, b, reason))
    if markdown:
        print("\n| policy | declared license | packages | ours | peer | why |\n| --- | --- | --- | --- | --- | --- |")
        for kind, license, count, a, b, reason in rows:
            print(f"| {kind} | `{license}` | {count} | {a} | {b} | {reason} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--collect", nargs="+", type=Path, metavar="DIR", help="rebuild the corpus from these npm trees")
    parser.add_argument("--registry", type=int, default=0, metavar="N",
                        help="with --collect: also ask the npm registry for up to N packages the trees name but did not install")
    parser.add_argument("--pypi", type=int, default=0, metavar="N",
                        help="with --collect: also the declared licenses of N projects drawn at random from PyPI")
    parser.add_argument("--record-peer", action="store_true", help=f"write the peer's verdicts to {PEER_RECORD.name}")
    parser.add_argument("--markdown", action="store_true", help="also print the disagreements as a Markdown table")
    args = parser.parse_args()
    if args.collect:
        corpus = collect(args.collect)
        if args.registry:
            known = {entry["source"].split(":", 1)[1].rsplit("@", 1)[0] for entry in corpus}
            extra = asyncio.run(from_registry(named_elsewhere(args.collect, known)[: args.registry]))
            corpus = sorted({(e["license"], e["source"]): e for e in corpus + extra}.values(), key=lambda e: e["source"])
        if args.pypi:
            extra = asyncio.run(from_pypi(args.pypi))
            corpus = sorted({(e["license"], e["source"]): e for e in corpus + extra}.values(), key=lambda e: e["source"])
        CORPUS.write_text(json.dumps(corpus, indent=0) + "\n", encoding="utf-8")
        print(f"wrote {CORPUS}: {len(corpus)} entries")
        return
    corpus = json.loads(CORPUS.read_text(encoding="utf-8"))
    if args.record_peer:
        distinct = [{"license": license} for license in sorted({e["license"] for e in corpus}, key=lambda x: (x is None, x or ""))]
        record = {}
        for kind, entries in POLICIES.items():
            verdicts = peer_verdicts(distinct, kind, entries)
            if verdicts is None:
                sys.exit("no peer: run `npm install --prefix bench/peer_spdx` first")
            record[kind] = [[entry["license"], verdict] for entry, verdict in zip(distinct, verdicts)]
        PEER_RECORD.write_text(json.dumps(record, indent=0) + "\n", encoding="utf-8")
        print(f"wrote {PEER_RECORD}")
        return
    compare(corpus, args.markdown)


if __name__ == "__main__":
    main()
