// @parley/record: the pure core of a line's joint record (see README.md). No I/O; runs in
// Node and the browser.
export * from './merkle.js';
export * from './canonical-json.js';
export * from './entries.js';
export * from './errors.js';
export * from './rules.js';
export * from './tree-head.js';
export * from './record-log.js';
export * from './consistency.js';
export * from './statements.js';
export * from './export.js';
export type { SchemaError } from './schema-check.js';
