#!/usr/bin/env node
// Runs the Google contract fake as a process (for tests in other languages):
//   node tests/services/google/main.mjs [--port N] [--option name=json ...]
// Prints one JSON line {"url", "controlToken"} on stdout once it listens; SIGTERM stops it.
// The control interface is at <url>__control/ (control.mjs) with the printed bearer token.
import { createGoogleFake, DEFAULTS } from './server.mjs';
import { runFake } from '../common/main.mjs';

await runFake(createGoogleFake, DEFAULTS, 'google/main.mjs');
