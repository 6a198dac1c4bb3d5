// @parley/calls: the pure core of calls on a line. No I/O, no clock, no Node APIs: the station,
// the web app and the CLI give it values (events, actors, `now`) and act on what it returns.
export * from './errors.js';
export * from './call-event.js';
export * from './call-body.js';
export * from './call-state.js';
export * from './escalation.js';
export * from './test-messages.js';
export * from './signalling.js';
export * from './ice.js';
export * from './describe.js';
export * from './line-event.js';
export * from './line-policy.js';
