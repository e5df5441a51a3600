// The entity definitions of Graph's CSDL (tests/data/contracts/microsoft/graph-*.json, derived from
// msgraph-metadata) and the checks built on them:
//   - checkBody(type, value, {mode}): a request body must use only the type's properties with
//     values of their declared types (Edm primitives, enums by member name, complex types,
//     collections, Nullable="false"), no read-only property, no annotation but a matching
//     @odata.type. 400 RequestBody... like Graph, with the property named.
//   - responseProblems(type, value): what an answer of the fake breaks (the fake checks its own
//     answers, so it cannot drift from the CSDL).
// Event is declared OpenType in the CSDL, but Outlook refuses properties it does not know; the fake
// takes the stricter reading and refuses them too.
import { readFileSync } from 'node:fs';
import { GraphError } from './errors.mjs';
import { contractsDir } from './paths.mjs';

const types = new Map();
for (const file of ['graph-event.json', 'graph-subscription.json', 'graph-calendar.json']) {
  for (const [name, def] of Object.entries(JSON.parse(readFileSync(`${contractsDir}/${file}`, 'utf8')).types)) {
    if (!types.has(name)) types.set(name, def);
  }
}

/// Properties (with base types) of a structured type: Map name -> {type, nullable, navigation}.
function propertiesOf(name) {
  const def = types.get(name);
  if (!def) throw new Error(`the CSDL copy has no type ${name}`);
  const base = def.BaseType ? propertiesOf(def.BaseType.replace(/^graph\./, '')) : new Map();
  for (const p of def.properties ?? []) base.set(p.name, { type: p.type, nullable: p.nullable !== false, navigation: false });
  for (const p of def.navigationProperties ?? []) base.set(p.name, { type: p.type, nullable: true, navigation: true });
  return base;
}
const propertyCache = new Map();
const props = (name) => {
  if (!propertyCache.has(name)) propertyCache.set(name, propertiesOf(name));
  return propertyCache.get(name);
};

export const hasType = (name) => types.has(name);
export const enumMembers = (name) => (types.get(name)?.members ?? []).map(([m]) => m);

/// Properties a client may not write, per entity (Graph's docs mark them read-only; the CSDL does not).
const READ_ONLY = {
  event: new Set(['id', 'changeKey', 'createdDateTime', 'lastModifiedDateTime', 'bodyPreview', 'hasAttachments', 'iCalUId',
    'isCancelled', 'isOrganizer', 'onlineMeeting', 'originalEndTimeZone', 'originalStart', 'originalStartTimeZone',
    'seriesMasterId', 'type', 'webLink', 'cancelledOccurrences', 'responseStatus', 'attachments', 'calendar',
    'exceptionOccurrences', 'extensions', 'instances']),
  subscription: new Set(['id', 'applicationId', 'creatorId', 'notificationQueryOptions', 'notificationContentType']),
};
/// Navigation properties a create may carry inline (Outlook's extended properties).
const INLINE_NAVIGATION = new Set(['singleValueExtendedProperties', 'multiValueExtendedProperties']);

/// Whether "yyyy-mm-dd" is a day of the calendar (Date.parse rolls 2026-02-30 over).
const realDay = (text) => {
  const ms = Date.parse(`${text}T00:00:00Z`);
  return Number.isFinite(ms) && new Date(ms).toISOString().slice(0, 10) === text;
};
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const DATE_TIME_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?(Z|[+-]\d{2}:\d{2})$/;
const TIME_OF_DAY = /^\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?$/;

/// The problems of `value` against the type reference `ref` ("Edm.String", "graph.x",
/// "Collection(...)"), each worded with `path`.
function valueProblems(ref, value, path, { write, strictUnknown = true } = {}) {
  const collection = /^Collection\((.*)\)$/.exec(ref);
  if (collection) {
    if (!Array.isArray(value)) return [`${path} must be an array (${ref})`];
    return value.flatMap((v, i) => (v === null ? [`${path}[${i}] must not be null`] : valueProblems(collection[1], v, `${path}[${i}]`, { write, strictUnknown })));
  }
  switch (ref) {
    case 'Edm.String': return typeof value === 'string' ? [] : [`${path} must be a string`];
    case 'Edm.Boolean': return typeof value === 'boolean' ? [] : [`${path} must be a boolean`];
    case 'Edm.Int32': return Number.isInteger(value) && value >= -(2 ** 31) && value < 2 ** 31 ? [] : [`${path} must be an Int32`];
    case 'Edm.Int64': return Number.isInteger(value) ? [] : [`${path} must be an Int64`];
    case 'Edm.Double': return typeof value === 'number' || ['NaN', 'INF', '-INF'].includes(value) ? [] : [`${path} must be a Double`];
    case 'Edm.DateTimeOffset': return typeof value === 'string' && DATE_TIME_OFFSET.test(value) && realDay(value.slice(0, 10)) ? [] : [`${path} must be an Edm.DateTimeOffset with an offset`];
    case 'Edm.Date': return typeof value === 'string' && DATE.test(value) && realDay(value) ? [] : [`${path} must be an Edm.Date (yyyy-mm-dd)`];
    case 'Edm.TimeOfDay': return typeof value === 'string' && TIME_OF_DAY.test(value) ? [] : [`${path} must be an Edm.TimeOfDay`];
    case 'Edm.Guid': return typeof value === 'string' && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value) ? [] : [`${path} must be a GUID`];
    case 'Edm.Binary': return typeof value === 'string' ? [] : [`${path} must be base64 text`];
    default: break;
  }
  const name = ref.replace(/^graph\./, '');
  const def = types.get(name);
  if (!def) return [`${path} has a type the fake's CSDL copy does not define: ${ref}`];
  if (def.kind === 'EnumType') {
    const members = enumMembers(name);
    // flags enums (changeType) are written as a comma list
    const parts = typeof value === 'string' ? (def.IsFlags === 'true' ? value.split(',') : [value]) : null;
    return parts && parts.every((p) => members.includes(p)) ? [] : [`${path} must be one of ${members.join('|')}`];
  }
  return structuredProblems(name, value, path, { write, strictUnknown });
}

function structuredProblems(name, value, path, { write, strictUnknown }) {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [`${path} must be an object (${name})`];
  const out = [];
  const known = props(name);
  for (const [key, v] of Object.entries(value)) {
    const where = path ? `${path}.${key}` : key;
    if (key.startsWith('@odata.') || key.includes('@')) {
      if (key === '@odata.type' && v === `#microsoft.graph.${name}`) continue;
      if (!write && ['@odata.etag', '@odata.type', '@odata.id', '@removed', '@odata.context'].includes(key)) continue;
      out.push(`${where}: the annotation is not allowed here`);
      continue;
    }
    const p = known.get(key);
    if (!p) {
      if (strictUnknown) out.push(`${where}: the property '${key}' does not exist on type 'microsoft.graph.${name}'`);
      continue;
    }
    if (write && READ_ONLY[name]?.has(key)) { out.push(`${where}: the property '${key}' is read-only`); continue; }
    if (p.navigation && write && !INLINE_NAVIGATION.has(key)) { out.push(`${where}: the navigation property '${key}' cannot be written inline`); continue; }
    if (v === null) {
      if (!p.nullable) out.push(`${where} must not be null`);
      continue;
    }
    out.push(...valueProblems(p.type, v, where, { write, strictUnknown }));
  }
  return out;
}

/// Checks a request body of entity `type` (400 with the first problem).
export function checkBody(type, value) {
  const problems = structuredProblems(type, value, '', { write: true, strictUnknown: true });
  if (problems.length) throw new GraphError(400, 'RequestBodyRead', problems[0]);
}

/// What a response object of `type` breaks in the CSDL (empty when nothing).
export function responseProblems(type, value) {
  return structuredProblems(type, value, type, { write: false, strictUnknown: true });
}
