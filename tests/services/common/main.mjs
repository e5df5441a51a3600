// Runs a contract fake as a process (for tests in other languages). The fake's main.mjs calls
// runFake(createFake, DEFAULTS, usage); the process takes [--port N] [--option name=json ...],
// prints one JSON line {"url", "controlToken"} on stdout once it listens, and stops on SIGTERM or
// SIGINT. The control interface is at <url>__control/ with the printed bearer token.
import { randomBytes } from 'node:crypto';

export async function runFake(createFake, defaults, usage) {
  const args = process.argv.slice(2);
  if (args.includes('--help')) {
    console.log(`usage: ${usage} [--port N] [--option name=json ...]\nswitches and defaults:\n${JSON.stringify(defaults, null, 1)}`);
    process.exit(0);
  }
  let port = 0;
  const options = { controlToken: randomBytes(24).toString('base64url') };
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--port') port = Number(args[++i]);
    else if (args[i] === '--option') {
      const [name, ...value] = (args[++i] ?? '').split('=');
      if (!(name in defaults)) { console.error(`${usage}: unknown switch ${name}`); process.exit(2); }
      try { options[name] = JSON.parse(value.join('=')); } catch { console.error(`${usage}: the value of ${name} is not JSON`); process.exit(2); }
    } else { console.error(`${usage}: unknown argument ${args[i]} (see --help)`); process.exit(2); }
  }
  const fake = await createFake(options, { port });
  console.log(JSON.stringify({ url: fake.url, controlToken: options.controlToken }));
  process.on('SIGTERM', () => fake.close().then(() => process.exit(0)));
  process.on('SIGINT', () => fake.close().then(() => process.exit(0)));
}
