// The code that runs inside a design document's sandbox realm, before and around its map and
// reduce functions: Couchbase's helpers (emit, sum, dateToArray, decodeBase64, isArray, toJSON,
// log) and the batch runners. The realm itself is hardened before this runs (../sandbox/realm.ts).
//
// User code shares this realm, so it can replace any global or prototype method. The runner is
// written so that does not matter: every built-in it calls is captured here before user code runs
// (JSON.parse/stringify, String, Error, charCodeAt), output is built by string concatenation
// only (an array push or an index store would run a setter planted on Array.prototype or
// Object.prototype), and it never iterates with a protocol user code can redefine. Its results
// are strings; the host parses them with its own JSON and validates them.
//
// The helpers follow Couchbase's builtin.js in behaviour; written here from its documented contract.
import { DESCRIBE_SOURCE } from '../sandbox/realm-source';
import { MAP_OUTPUT_BUDGET_CHARS, MAX_EMIT_DEPTH, MAX_KEY_BYTES, MAX_KV_BYTES_PER_DOC, MAX_REDUCTION_BYTES, MAX_ROWS_PER_DOC } from './sandbox-limits';

export const RUNNER_SOURCE = String.raw`
(function (g) {
  'use strict';
  var parse = JSON.parse, stringify = JSON.stringify, isArr = Array.isArray;
  var defineProperty = Object.defineProperty, freeze = Object.freeze;
  var Err = Error, DateCtor = Date, finite = isFinite;
  var uncurry = Function.prototype.bind.bind(Function.prototype.call);
  var charCodeAt = uncurry(String.prototype.charCodeAt), sliceString = uncurry(String.prototype.slice);
  var dateValue = uncurry(DateCtor.prototype.valueOf);
  var utcYear = uncurry(DateCtor.prototype.getUTCFullYear), utcMonth = uncurry(DateCtor.prototype.getUTCMonth);
  var utcDate = uncurry(DateCtor.prototype.getUTCDate), utcHours = uncurry(DateCtor.prototype.getUTCHours);
  var utcMinutes = uncurry(DateCtor.prototype.getUTCMinutes), utcSeconds = uncurry(DateCtor.prototype.getUTCSeconds);

  function def(obj, name, value) {
    defineProperty(obj, name, { value: value, writable: false, enumerable: false, configurable: false });
  }
  function enc(v) {
    var s = stringify(v);
    return s === undefined ? 'null' : s;
  }
  var describe = ${DESCRIBE_SOURCE};
  // UTF-8 length of a JSON text (JSON.stringify escapes lone surrogates, so pairs are whole).
  function utf8Length(s) {
    var n = s.length, bytes = n;
    for (var i = 0; i < n; i++) {
      var c = charCodeAt(s, i);
      if (c >= 0x80) bytes += c >= 0x800 && (c < 0xd800 || c > 0xdfff) ? 2 : 1;
    }
    return bytes;
  }
  // Whether a JSON text nests deeper than the limit (a text shorter than twice the limit cannot).
  function tooDeep(s) {
    if (s.length <= 2 * ${MAX_EMIT_DEPTH}) return false;
    var depth = 0, inString = false;
    for (var i = 0; i < s.length; i++) {
      var c = charCodeAt(s, i);
      if (inString) {
        if (c === 92) i++;
        else if (c === 34) inString = false;
      } else if (c === 34) inString = true;
      else if (c === 91 || c === 123) {
        if (++depth > ${MAX_EMIT_DEPTH}) return true;
      } else if (c === 93 || c === 125) depth--;
    }
    return false;
  }

  // The document being mapped: its rows so far and the first limit it broke. A limit error is
  // sticky, so a map function that catches it still loses the document.
  var mapping = false, docId = '', docOut = '', docRows = 0, docBytes = 0, docError = '', prefix = '';
  function limitError(reason) {
    if (docError === '') docError = reason;
    return new Err(reason);
  }

  def(g, 'emit', function emit(key, value) {
    if (!mapping) throw new Err('emit() may only be called from a map function');
    if (docError !== '') throw new Err(docError);
    var k = enc(key), v = enc(value);
    if (++docRows > ${MAX_ROWS_PER_DOC}) {
      throw limitError('Too many keys emitted for document ' + enc(docId) + ' (maximum allowed is ${MAX_ROWS_PER_DOC})');
    }
    var kb = k.length > ${Math.floor(MAX_KEY_BYTES / 3)} ? utf8Length(k) : k.length;
    if (kb > ${MAX_KEY_BYTES}) {
      throw limitError('key emitted for document ' + enc(docId) + ' is too long (' + kb + ' bytes, maximum allowed is ${MAX_KEY_BYTES})');
    }
    docBytes += kb + (v.length > 64 ? utf8Length(v) : v.length);
    if (docBytes > ${MAX_KV_BYTES_PER_DOC}) {
      throw limitError('value emitted for key ' + (k.length > 100 ? sliceString(k, 0, 100) + '...' : k) + ', document ' + enc(docId) + ', is too big (' + docBytes + ' bytes, maximum allowed is ${MAX_KV_BYTES_PER_DOC} per document)');
    }
    if (tooDeep(k) || tooDeep(v)) {
      throw limitError('key or value emitted for document ' + enc(docId) + ' is nested more than ${MAX_EMIT_DEPTH} levels deep');
    }
    docOut += prefix + k + ',' + v;
  });

  g.sum = function sum(values) {
    var total = 0;
    for (var i = 0; i < values.length; i++) total += values[i];
    return total;
  };
  g.isArray = function isArray(v) { return isArr(v); };
  g.toJSON = function toJSON(v) { return enc(v); };
  g.log = function log() {};
  g.dateToArray = function dateToArray(date) {
    var d = date instanceof DateCtor ? date : new DateCtor(date);
    if (!finite(dateValue(d))) return null;
    return [utcYear(d), utcMonth(d) + 1, utcDate(d), utcHours(d), utcMinutes(d), utcSeconds(d)];
  };
  var B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  var B64_VALUES = Object.create(null);
  for (var b = 0; b < 64; b++) B64_VALUES[charCodeAt(B64, b)] = b;
  freeze(B64_VALUES);
  g.decodeBase64 = function decodeBase64(b64) {
    if (typeof b64 !== 'string') throw 'Input is not a string';
    if (b64.length % 4 !== 0) throw 'Invalid base64 source.';
    var bytes = [], n = 0, bits = 0, acc = 0;
    for (var i = 0; i < b64.length; i++) {
      var c = charCodeAt(b64, i);
      if (c === 61) break;
      var v = B64_VALUES[c];
      if (v === undefined) throw 'Invalid base64 source.';
      acc = ((acc << 6) | v) & 0xffffff;
      bits += 6;
      if (bits >= 8) {
        bits -= 8;
        bytes[n++] = (acc >> bits) & 0xff;
      }
    }
    return bytes;
  };

  // Functions are registered at fixed slots while the worker compiles them, then sealed.
  var maps = [], reduces = [], sealed = false;
  def(g, '__register', function (kind, index, fn) {
    if (sealed) throw new Err('design document functions are already compiled');
    if (typeof fn !== 'function') return 'not a function';
    if (kind === 'map') maps[index] = fn;
    else reduces[index] = fn;
    return '';
  });
  def(g, '__seal', function () {
    sealed = true;
    freeze(maps);
    freeze(reduces);
  });

  // __input: [firstIndex, meta, type, doc, meta, type, doc, ...] with meta [id, rev, seq, vb,
  // expiration, flags] and type 0 (JSON) or 1 (base64 text). Result: JSON
  // [processed, docIndex, viewIndex, key, value, ...], where a failed document is
  // docIndex, -1 or -2, reason, viewIndex and keeps none of its rows. A batch stops early once its
  // output passes the budget; the host resends the rest.
  // A runner called again from user code (it is a global) would reset the state of the batch.
  var running = false;
  def(g, '__runMaps', function () {
    if (running) throw new Err('the view runner is not reentrant');
    running = true;
    try {
      return runMaps();
    } finally {
      running = false;
      mapping = false;
      docOut = '';
    }
  });
  function runMaps() {
    var input;
    try {
      input = parse(g.__input);
    } catch (e) {
      return '!' + describe(e);
    }
    var first = input[0], out = '', processed = first;
    for (var i = 1; i + 2 < input.length; i += 3) {
      var m = input[i], d = first + (i - 1) / 3;
      var meta = { id: m[0], rev: m[1], seq: m[2], vb: m[3], expiration: m[4], flags: m[5], type: input[i + 1] === 1 ? 'base64' : 'json' };
      var doc = input[i + 2];
      docId = m[0];
      docOut = '';
      docRows = 0;
      docBytes = 0;
      docError = '';
      var failed = '', failedView = 0;
      for (var f = 0; f < maps.length; f++) {
        prefix = ',' + d + ',' + f + ',';
        var fn = maps[f];
        mapping = true;
        try {
          fn(doc, meta);
        } catch (e) {
          failed = docError !== '' ? docError : describe(e);
        }
        mapping = false;
        if (failed === '' && docError !== '') failed = docError;
        if (failed !== '') {
          failedView = f;
          break;
        }
      }
      // -2 marks a document refused for what it emitted (a limit), -1 one whose map threw.
      if (failed !== '') out += ',' + d + (docError !== '' ? ',-2,' : ',-1,') + enc(failed) + ',' + failedView;
      else out += docOut;
      processed = d + 1;
      if (out.length > ${MAP_OUTPUT_BUDGET_CHARS}) break;
    }
    return '[' + processed + out + ']';
  }

  // __input: [reduceIndex, [[keys or null, values, rereduce], ...]]; result: JSON list of reductions.
  def(g, '__runReduces', function () {
    if (running) throw new Err('the view runner is not reentrant');
    running = true;
    try {
      var input = parse(g.__input);
      var fn = reduces[input[0]];
      var jobs = input[1];
      var out = '';
      for (var j = 0; j < jobs.length; j++) {
        var job = jobs[j];
        var s = enc(fn(job[0], job[1], job[2]));
        if ((s.length > ${Math.floor(MAX_REDUCTION_BYTES / 3)} ? utf8Length(s) : s.length) > ${MAX_REDUCTION_BYTES} || tooDeep(s)) return '!reduction too large';
        out += (j === 0 ? '' : ',') + s;
      }
      return '[' + out + ']';
    } catch (e) {
      return '!' + describe(e);
    } finally {
      running = false;
    }
  });
})(this);
`;
