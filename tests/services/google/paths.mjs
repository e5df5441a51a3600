// Where the fake finds the contract it enforces: the copies in tests/data/contracts/google/ of
// Google's discovery document (google-calendar-v3.json, revision 20260225) and captured samples.
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = resolve(here, '../../..');
export const contractsDir = resolve(repoRoot, 'tests/data/contracts/google');
