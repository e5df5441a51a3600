#!/usr/bin/env node
// Runs the Microsoft Graph contract fake as a process (for tests in other languages):
//   node tests/services/microsoft/main.mjs [--port N] [--option name=json ...]
// Prints one JSON line {"url", "controlToken"} on stdout once it listens; SIGTERM stops it.
// The control interface is at <url>__control/ (control.mjs) with the printed bearer token.
import { createGraphFake, DEFAULTS } from './server.mjs';
import { runFake } from '../common/main.mjs';

await runFake(createGraphFake, DEFAULTS, 'microsoft/main.mjs');
