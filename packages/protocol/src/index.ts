export * from './errors.js';
export * from './bytes.js';
export * from './fingerprints.js';
export * from './roles.js';
export * from './schema-parts.js';
export * from './client-api.js';
export * from './federation-api.js';
export * from './validate.js';
