export * from './merkle.js';
export * from './canonical-json.js';
export * from './entries.js';
export * from './errors.js';
export * from './rules.js';
export * from './tree-head.js';
export * from './record-log.js';
export * from './consistency.js';
