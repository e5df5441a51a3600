#!/usr/bin/env node
// Runs the Google contract fake as a process (for tests in other languages):
//   node tests/services/google/main.mjs [--port N] [--option name=json ...]
// Prints one JSON line {"url", "controlToken"} on stdout once it listens; SIGTERM stops it.
// The control interface is at <url>__control/ (control.mjs) with the printed bearer token.
import { randomBytes } from 'node:crypto';
import { createGoogleFake, DEFAULTS } from './server.mjs';

const args = process.argv.slice(2);
if (args.includes('--help')) {
  console.log(`usage: main.mjs [--port N] [--option name=json ...]\nswitches and defaults:\n${JSON.stringify(DEFAULTS, null, 1)}`);
  process.exit(0);
}
let port = 0;
const options = { controlToken: randomBytes(24).toString('base64url') };
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--port') port = Number(args[++i]);
  else if (args[i] === '--option') {
    const [name, ...value] = args[++i].split('=');
    if (!(name in DEFAULTS)) { console.error(`main.mjs: unknown switch ${name}`); process.exit(2); }
    options[name] = JSON.parse(value.join('='));
  } else { console.error(`main.mjs: unknown argument ${args[i]} (see --help)`); process.exit(2); }
}
const fake = await createGoogleFake(options, { port });
console.log(JSON.stringify({ url: fake.url, controlToken: options.controlToken }));
process.on('SIGTERM', () => fake.close().then(() => process.exit(0)));
process.on('SIGINT', () => fake.close().then(() => process.exit(0)));
