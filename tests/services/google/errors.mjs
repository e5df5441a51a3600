// Google's error answers, built from the captured samples in tests/data/contracts/google/
// (google-error-<status>-<reason>.json) so their domain, message and location are Google's own, and
// the one JSON shape every API error takes:
//   {"error":{"errors":[{domain, reason, message, locationType?, location?}], code, message}}
import { readFileSync, readdirSync } from 'node:fs';
import { contractsDir } from './paths.mjs';

const samples = new Map();  // "<status>-<reason>" -> the sample's single error item
for (const file of readdirSync(contractsDir)) {
  const m = /^google-error-(\d{3})-(\w+)\.json$/.exec(file);
  if (!m) continue;
  const body = JSON.parse(readFileSync(`${contractsDir}/${file}`, 'utf8'));
  samples.set(`${m[1]}-${m[2]}`, body.error.errors[0]);
}

/// An API error the request handlers throw; the server turns it into Google's JSON body.
export class ApiError extends Error {
  constructor(status, reason, message, { domain = 'global', location, locationType, headers } = {}) {
    super(message);
    this.status = status;
    this.reason = reason;
    this.domain = domain;
    this.location = location;
    this.locationType = locationType;
    this.headers = headers ?? {};
  }
  body() {
    const item = { domain: this.domain, reason: this.reason, message: this.message };
    if (this.locationType) item.locationType = this.locationType;
    if (this.location) item.location = this.location;
    return { error: { errors: [item], code: this.status, message: this.message } };
  }
}

/// The error of a captured sample, e.g. sampleError(410, 'fullSyncRequired'); throws for a sample
/// that does not exist (a bug in the fake).
export function sampleError(status, reason, overrides = {}) {
  const item = samples.get(`${status}-${reason}`);
  if (!item) throw new Error(`no captured sample for ${status} ${reason}`);
  return new ApiError(status, reason, overrides.message ?? item.message, {
    domain: item.domain,
    location: overrides.location ?? item.location,
    locationType: overrides.locationType ?? item.locationType,
    headers: overrides.headers,
  });
}

/// 400 `invalid` / `required` / `badRequest` about one parameter or field.
export function invalid(message, location, locationType = 'parameter', reason = 'invalid') {
  return new ApiError(400, reason, message, { location, locationType });
}

export function required(location, locationType = 'parameter') {
  return new ApiError(400, 'required', 'Required', { location, locationType });
}

export const notFound = () => sampleError(404, 'notFound');

/// What the fake deliberately does not implement: a clear 501 so a test notices at once.
export function unsupported(what) {
  return new ApiError(501, 'notImplemented', `The contract fake does not implement ${what}.`);
}
