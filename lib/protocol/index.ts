// deferbase/protocol: pure codecs for Couchbase's memcached binary protocol and friends.
// No sockets, no timers: everything here is a function of its arguments.
export * from './opcodes';
export * from './status';
export * from './datatype';
export * from './packet';
export * from './framing';
export * from './extras';
export * from './hello';
export * from './leb128';
export * from './vbucket';
export * from './sasl';
export * from './config';
export * from './errormap';
export * from './subdoc';
export * from './ketama';
export * from './snappy';
export * from './range-scan';
