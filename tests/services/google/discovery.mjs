// Google's discovery document as the fake's rule book: which methods exist and at which paths,
// which query parameters each takes (type, enum, bounds, repeated), which scopes each accepts, and
// the schema every request and response body must follow.
//
// Strictness (CONTRACT.md: where the contract is unclear the fake is stricter than Google):
//   - an unknown query parameter is 400 (Google ignores some);
//   - a request body with a field the schema does not know, or a value of the wrong type, is 400;
//   - int64 fields ("format": "int64", strings in the schema) are accepted as JSON numbers in
//     requests, as Google's own guide sends them, and always sent as strings;
//   - a response body that does not follow its schema is a bug in the fake: validateResponse()
//     throws, the server answers 500 and records the violation for the tests to fail on.
import { readFileSync } from 'node:fs';
import { contractsDir } from './paths.mjs';
import { invalid, required } from './errors.mjs';

export const doc = JSON.parse(readFileSync(`${contractsDir}/google-calendar-v3.json`, 'utf8'));
export const servicePath = `/${doc.servicePath}`;  // "/calendar/v3/"
export const batchPath = `/${doc.batchPath}`;      // "/batch/calendar/v3"

function collectMethods(resources, prefix, out) {
  for (const [name, resource] of Object.entries(resources ?? {})) {
    for (const [verb, method] of Object.entries(resource.methods ?? {})) {
      const segments = method.path.split('/');
      out.push({ id: method.id, name: `${prefix}${name}.${verb}`, httpMethod: method.httpMethod, segments, method });
    }
    collectMethods(resource.resources, `${prefix}${name}.`, out);
  }
  return out;
}
// literal segments before parameters, so "events/watch" wins over "events/{eventId}"
const methods = collectMethods(doc.resources, '', []).sort(
  (a, b) => b.segments.filter((s) => !s.startsWith('{')).length - a.segments.filter((s) => !s.startsWith('{')).length);

/// The method for an HTTP method and a path below servicePath ("calendars/x/events"), with its
/// decoded path parameters; null when none matches.
export function matchMethod(httpMethod, relativePath) {
  const parts = relativePath.split('/');
  for (const m of methods) {
    if (m.httpMethod !== httpMethod || m.segments.length !== parts.length) continue;
    const params = {};
    let ok = true;
    for (let i = 0; i < parts.length && ok; i++) {
      const seg = m.segments[i];
      if (seg.startsWith('{')) {
        let value;
        try { value = decodeURIComponent(parts[i]); } catch { ok = false; break; }
        if (value === '') ok = false;
        params[seg.slice(1, -1)] = value;
      } else if (seg !== parts[i]) {
        ok = false;
      }
    }
    if (ok) return { ...m, params };
  }
  return null;
}

/// Is there a method at this path for some other HTTP method? (405 vs 404)
export function pathExists(relativePath) {
  const parts = relativePath.split('/');
  return methods.some((m) => m.segments.length === parts.length &&
    m.segments.every((s, i) => s.startsWith('{') || s === parts[i]));
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/i;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const LOCAL_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?$/;

/// An RFC 3339 date-time with its offset (Google requires one), as epoch ms; null if not one.
export function parseDateTime(value) {
  if (typeof value !== 'string') return null;
  const m = RFC3339.exec(value);
  // Date.parse rolls 2027-02-30 over to March: every part is checked first
  if (!m || !isDate(`${m[1]}-${m[2]}-${m[3]}`) || +m[4] > 23 || +m[5] > 59 || +m[6] > 59) return null;
  if (m[8].length === 6 && (+m[8].slice(1, 3) > 23 || +m[8].slice(4) > 59)) return null;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : ms;
}

export function isDate(value) {
  if (typeof value !== 'string') return false;
  const m = DATE.exec(value);
  if (!m) return false;
  const d = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3]));
  return d.getUTCFullYear() === +m[1] && d.getUTCMonth() === +m[2] - 1 && d.getUTCDate() === +m[3];
}

function typedParameter(name, spec, raw) {
  switch (spec.type) {
    case 'boolean':
      if (raw !== 'true' && raw !== 'false') throw invalid(`Invalid boolean value: '${raw}'.`, name);
      return raw === 'true';
    case 'integer': {
      const n = Number(raw);
      if (!/^-?\d+$/.test(raw) || (spec.format === 'int32' && (n > 2147483647 || n < -2147483648))) {
        throw invalid(`Invalid integer value: '${raw}'.`, name);
      }
      if (spec.minimum !== undefined && n < Number(spec.minimum)) throw invalid(`Invalid value '${raw}'. Values must be within the range: [${spec.minimum}, ${spec.maximum ?? ''}]`, name);
      if (spec.maximum !== undefined && n > Number(spec.maximum)) throw invalid(`Invalid value '${raw}'. Values must be within the range: [${spec.minimum ?? ''}, ${spec.maximum}]`, name);
      return n;
    }
    default:
      if (spec.enum && !spec.enum.includes(raw)) throw invalid(`Invalid value for: ${name}: '${raw}'`, name);
      if (spec.format === 'date-time' && parseDateTime(raw) === null) {
        throw invalid(`Bad Request: ${name} must be an RFC3339 timestamp with a time zone offset.`, name, 'parameter', 'badRequest');
      }
      return raw;
  }
}

/// The query of a request checked against the method's parameters and the API's global ones.
/// Returns {name: value} (arrays for repeated parameters). 400 for an unknown parameter, a repeated
/// one that may not repeat, a wrong type, a value outside an enum or a bound.
export function checkQuery(match, searchParams) {
  const specs = { ...doc.parameters, ...match.method.parameters };
  const out = {};
  for (const name of new Set(searchParams.keys())) {
    const spec = specs[name];
    if (!spec || spec.location === 'path') throw invalid(`Unknown parameter: '${name}'.`, name);
    const values = searchParams.getAll(name);
    if (values.length > 1 && !spec.repeated) throw invalid(`Parameter '${name}' may be given once.`, name);
    const typed = values.map((v) => typedParameter(name, spec, v));
    out[name] = spec.repeated ? typed : typed[0];
  }
  for (const [name, spec] of Object.entries(match.method.parameters ?? {})) {
    if (spec.required && spec.location === 'query' && out[name] === undefined) throw required(name);
  }
  return out;
}

function describe(value) {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

// Checks `value` against a discovery schema; calls fail(path, message) on the first problem.
function check(value, schema, path, mode, fail) {
  if (schema.$ref) schema = doc.schemas[schema.$ref];
  if (value === null) return fail(path, 'null is not allowed');  // Google's JSON never has nulls
  switch (schema.type) {
    case 'any':
      return true;
    case 'object': {
      if (describe(value) !== 'object') return fail(path, `expected an object, got ${describe(value)}`);
      for (const [key, v] of Object.entries(value)) {
        const sub = schema.properties?.[key] ?? schema.additionalProperties;
        if (!sub) return fail(`${path}.${key}`, 'unknown field');
        if (!check(v, sub, `${path}.${key}`, mode, fail)) return false;
      }
      return true;
    }
    case 'array':
      if (!Array.isArray(value)) return fail(path, `expected an array, got ${describe(value)}`);
      return value.every((v, i) => check(v, schema.items, `${path}[${i}]`, mode, fail));
    case 'boolean':
      return typeof value === 'boolean' || fail(path, `expected a boolean, got ${describe(value)}`);
    case 'integer':
      return Number.isInteger(value) || fail(path, `expected an integer, got ${describe(value)}`);
    case 'number':
      return typeof value === 'number' || fail(path, `expected a number, got ${describe(value)}`);
    case 'string':
      if (schema.format === 'int64' && mode === 'request' && Number.isInteger(value)) return true;
      if (typeof value !== 'string') return fail(path, `expected a string, got ${describe(value)}`);
      if (schema.format === 'int64' && !/^-?\d+$/.test(value)) return fail(path, 'expected an int64 string');
      if (schema.format === 'date-time' && parseDateTime(value) === null) {
        // a request may give an event time without offset when it names a zone (checked with the
        // event's rules); Google always answers with the offset
        if (!(mode === 'request' && LOCAL_DATE_TIME.test(value))) return fail(path, 'expected an RFC 3339 date-time with an offset');
      }
      if (schema.format === 'date' && !isDate(value)) return fail(path, 'expected a date yyyy-mm-dd');
      if (schema.enum && !schema.enum.includes(value)) return fail(path, `not one of ${schema.enum.join(', ')}`);
      return true;
    default:
      return fail(path, `schema type ${schema.type} unknown to the fake`);
  }
}

/// A request body against schema `name`: 400 with Google's "Invalid JSON payload" wording on the
/// first unknown field or wrong type.
export function checkRequest(name, value) {
  check(value, { $ref: name }, 'resource', 'request', (path, message) => {
    throw invalid(`Invalid JSON payload received. ${path}: ${message}.`, path, 'body', 'parseError');
  });
}

/// Problems of a response body against schema `name` (empty when it follows it).
export function responseProblems(name, value) {
  const problems = [];
  check(value, { $ref: name }, name, 'response', (path, message) => { problems.push(`${path}: ${message}`); return false; });
  return problems;
}

/// Does the token's scope list allow this method? (any of the method's scopes)
export function scopeAllows(match, grantedScopes) {
  const accepted = match.method.scopes ?? [];
  return accepted.some((s) => grantedScopes.includes(s));
}

export const knownScopes = Object.keys(doc.auth.oauth2.scopes);
