// Where the Graph fake finds the contract it enforces: the copies in tests/data/contracts/microsoft/
// of the CSDL-derived type definitions (graph-event.json, graph-subscription.json, graph-calendar.json)
// and the documentation samples.
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));
export const contractsDir = resolve(here, '../../data/contracts/microsoft');
