#include "decode/js/prelude.h"

namespace bysans::decode::js {

const char kPrelude[] = R"JS(
(function (g) {
  'use strict';
  const atob_ = g.atob, btoa_ = g.btoa;
  const HEX = '0123456789abcdef';
  // Properties added to built-ins are non-enumerable, as the built-ins' own are.
  function def(o, k, v) {
    Object.defineProperty(o, k, { value: v, writable: true, configurable: true, enumerable: false });
  }
  function defAll(o, methods) {
    for (const k of Object.keys(methods)) def(o, k, methods[k]);
  }
  // ---- Node-style errors: an enumerable `code`, and String(e) is "Name [CODE]: message".
  function nodeError(Ctor, code, msg) {
    const e = new Ctor(msg);
    e.code = code;
    def(e, 'toString', function () { return this.name + ' [' + code + ']: ' + this.message; });
    return e;
  }
  function withSeparators(s) {
    let r = '', i = s.length;
    const first = s[0] === '-' ? 1 : 0;
    for (; i >= first + 4; i -= 3) r = '_' + s.slice(i - 3, i) + r;
    return s.slice(0, i) + r;
  }
  function describe(v) {
    if (typeof v === 'number') {
      if (Number.isInteger(v) && Math.abs(v) > 2 ** 32) return withSeparators(String(v));
      return Object.is(v, -0) ? '-0' : String(v);
    }
    return typeof v === 'symbol' ? v.toString() : String(v);
  }
  function describeType(v) {
    if (v === null || v === undefined) return String(v);
    if (typeof v === 'function') return 'function ' + v.name;
    if (typeof v === 'object') {
      const c = v.constructor;
      return c && c.name ? 'an instance of ' + c.name : 'an object';
    }
    let s = describe(v);
    if (typeof v === 'string') s = "'" + s + "'";
    if (s.length > 28) s = s.slice(0, 25) + '...';
    return 'type ' + typeof v + ' (' + s + ')';
  }
  function invalidType(name, expected, v) {
    return nodeError(TypeError, 'ERR_INVALID_ARG_TYPE', 'The "' + name + '" argument must be ' +
                     expected + '. Received ' + describeType(v));
  }
  function outOfRange(name, range, v) {
    return nodeError(RangeError, 'ERR_OUT_OF_RANGE', 'The value of "' + name +
                     '" is out of range. It must be ' + range + '. Received ' + describe(v));
  }
  // Node's boundsError: `v` is not an integer, or not in [min, max].
  function boundsError(v, max, name) {
    if (Math.floor(v) !== v) {
      if (typeof v !== 'number') throw invalidType(name, 'of type number', v);
      throw outOfRange(name, 'an integer', v);
    }
    if (max < 0) {
      throw nodeError(RangeError, 'ERR_BUFFER_OUT_OF_BOUNDS',
                      'Attempt to access memory outside buffer bounds');
    }
    throw outOfRange(name, '>= ' + (name === 'offset' ? 0 : 1) + ' and <= ' + max, v);
  }
  // ---- UTF-8 (WHATWG Encoding: lone surrogates encode as U+FFFD; invalid input decodes to
  // U+FFFD per maximal subpart, as in Node).
  function codePointAt(s, i) {
    const c = s.charCodeAt(i);
    if (c < 0xd800 || c >= 0xe000) return c;
    if (c < 0xdc00 && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d < 0xe000) return 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
    }
    return 0xfffd;
  }
  function pushUtf8(c, out) {
    if (c < 0x80) out.push(c);
    else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
    else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63),
                  0x80 | (c & 63));
  }
  function utf8Encode(s) {
    const out = [];
    for (let i = 0; i < s.length; i++) {
      const c = codePointAt(s, i);
      if (c > 0xffff) i++;
      pushUtf8(c, out);
    }
    return out;
  }
  // The UTF-8 decoder's state, kept between calls when a TextDecoder streams.
  class Utf8State {
    constructor() { this.reset(); }
    reset() { this.need = 0; this.seen = 0; this.cp = 0; this.lo = 0x80; this.hi = 0xbf; }
    // Appends the UTF-16 code units of b[s..e) to `out`; false on invalid input when `fatal`.
    run(b, s, e, flush, fatal, out) {
      for (let i = s; i < e; i++) {
        const x = b[i];
        if (this.need === 0) {
          if (x < 0x80) {
            out.push(x);
          } else if (x >= 0xc2 && x <= 0xdf) {
            this.need = 1; this.cp = x & 31;
          } else if (x >= 0xe0 && x <= 0xef) {
            if (x === 0xe0) this.lo = 0xa0;
            if (x === 0xed) this.hi = 0x9f;
            this.need = 2; this.cp = x & 15;
          } else if (x >= 0xf0 && x <= 0xf4) {
            if (x === 0xf0) this.lo = 0x90;
            if (x === 0xf4) this.hi = 0x8f;
            this.need = 3; this.cp = x & 7;
          } else {
            if (fatal) return false;
            out.push(0xfffd);
          }
          continue;
        }
        if (x < this.lo || x > this.hi) {  // the byte starts over after the error
          this.reset();
          if (fatal) return false;
          out.push(0xfffd);
          i--;
          continue;
        }
        this.lo = 0x80; this.hi = 0xbf;
        this.cp = (this.cp << 6) | (x & 63);
        if (++this.seen === this.need) {
          const c = this.cp;
          if (c > 0xffff) out.push(0xd800 + ((c - 0x10000) >> 10), 0xdc00 + ((c - 0x10000) & 1023));
          else out.push(c);
          this.reset();
        }
      }
      if (flush && this.need !== 0) {
        this.reset();
        if (fatal) return false;
        out.push(0xfffd);
      }
      return true;
    }
  }
  function unitsToString(units, start) {
    let s = '';
    for (let i = start; i < units.length; i += 8192) {
      s += String.fromCharCode.apply(null, units.slice(i, Math.min(units.length, i + 8192)));
    }
    return s;
  }
  function utf8Decode(b, s, e) {
    const units = [];
    new Utf8State().run(b, s, e, true, false, units);
    return unitsToString(units, 0);
  }
  function norm(enc) { return String(enc === undefined ? 'utf8' : enc).toLowerCase(); }
  class Buffer extends Uint8Array {
    static from(v, enc, len) {
      if (typeof v === 'string') {
        enc = norm(enc);
        if (enc === 'base64' || enc === 'base64url') {
          const s = atob_(v.replace(/-/g, '+').replace(/_/g, '/').replace(/[^A-Za-z0-9+/]/g, ''));
          const b = new Buffer(s.length);
          for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i);
          return b;
        }
        if (enc === 'hex') {
          const n = v.length >> 1, b = [];
          for (let i = 0; i < n; i++) {
            const x = parseInt(v.substr(i * 2, 2), 16);
            if (Number.isNaN(x)) break;
            b.push(x);
          }
          return new Buffer(b);
        }
        if (enc === 'latin1' || enc === 'binary' || enc === 'ascii') {
          const b = new Buffer(v.length);
          for (let i = 0; i < v.length; i++) b[i] = v.charCodeAt(i) & 255;
          return b;
        }
        if (enc === 'utf8' || enc === 'utf-8') return new Buffer(utf8Encode(v));
        throw new TypeError('Unknown encoding: ' + enc);
      }
      if (v instanceof ArrayBuffer) return new Buffer(v, enc || 0, len === undefined ? v.byteLength - (enc || 0) : len);
      if (v !== null && typeof v === 'object' && v.type === 'Buffer' && Array.isArray(v.data)) return new Buffer(v.data);
      if (v !== null && typeof v === 'object') return new Buffer(Array.prototype.slice.call(v));
      throw new TypeError('Buffer.from: unsupported argument');
    }
    static alloc(n, fill) { const b = new Buffer(n); if (fill !== undefined) b.fill(fill); return b; }
    static isBuffer(b) { return b instanceof Buffer; }
    static concat(list) {
      let n = 0; for (const b of list) n += b.length;
      const out = new Buffer(n); let o = 0;
      for (const b of list) { out.set(b, o); o += b.length; }
      return out;
    }
    toString(enc, start, end) {
      enc = norm(enc);
      start = start === undefined ? 0 : Math.max(0, start | 0);
      end = end === undefined ? this.length : Math.min(this.length, end | 0);
      let s = '';
      if (enc === 'hex') {
        for (let i = start; i < end; i++) s += HEX[this[i] >> 4] + HEX[this[i] & 15];
        return s;
      }
      if (enc === 'base64') {
        for (let i = start; i < end; i++) s += String.fromCharCode(this[i]);
        return btoa_(s);
      }
      if (enc === 'latin1' || enc === 'binary' || enc === 'ascii') {
        for (let i = start; i < end; i++) s += String.fromCharCode(enc === 'ascii' ? this[i] & 127 : this[i]);
        return s;
      }
      return utf8Decode(this, start, end);
    }
    toJSON() { return { type: 'Buffer', data: Array.from(this) }; }
    equals(o) { if (o.length !== this.length) return false; for (let i = 0; i < o.length; i++) if (o[i] !== this[i]) return false; return true; }
    slice(s, e) { return this.subarray(s, e); }
  }
  // Node's checks for a fixed-size read of `n` bytes at offset `o` (0 when omitted).
  function check(b, o, n) {
    if (o === undefined) o = 0;
    if (typeof o !== 'number') throw invalidType('offset', 'of type number', o);
    if (b[o] === undefined || b[o + n - 1] === undefined) boundsError(o, b.length - n, 'offset');
    return o;
  }
  // readUIntBE/LE and readIntBE/LE: `n` bytes (1 to 6) at `o`, as in Node.
  function readVariable(b, o, n, bigEndian, signed) {
    if (o === undefined) throw invalidType('offset', 'of type number', o);
    if (!(n >= 1 && n <= 6 && Number.isInteger(n))) boundsError(n, 6, 'byteLength');
    o = check(b, o, n);
    let v = 0;
    for (let i = 0; i < n; i++) v = v * 256 + b[bigEndian ? o + i : o + n - 1 - i];
    return signed && v >= 2 ** (8 * n - 1) ? v - 2 ** (8 * n) : v;
  }
  const P = Buffer.prototype;
  function dv(b) { return new DataView(b.buffer, b.byteOffset, b.byteLength); }
  defAll(P, {
    readUInt8(o) { o = check(this, o, 1); return this[o]; },
    readInt8(o) { o = check(this, o, 1); const v = this[o]; return v > 127 ? v - 256 : v; },
    readUInt16BE(o) { o = check(this, o, 2); return (this[o] << 8) | this[o + 1]; },
    readUInt16LE(o) { o = check(this, o, 2); return this[o] | (this[o + 1] << 8); },
    readInt16BE(o) { const v = this.readUInt16BE(o); return v > 32767 ? v - 65536 : v; },
    readInt16LE(o) { const v = this.readUInt16LE(o); return v > 32767 ? v - 65536 : v; },
    readUInt32BE(o) {
      o = check(this, o, 4);
      return ((this[o] << 24) >>> 0) + ((this[o + 1] << 16) | (this[o + 2] << 8) | this[o + 3]);
    },
    readUInt32LE(o) {
      o = check(this, o, 4);
      return ((this[o + 3] << 24) >>> 0) + ((this[o + 2] << 16) | (this[o + 1] << 8) | this[o]);
    },
    readInt32BE(o) { return this.readUInt32BE(o) | 0; },
    readInt32LE(o) { return this.readUInt32LE(o) | 0; },
    readUIntBE(o, n) { return readVariable(this, o, n, true, false); },
    readUIntLE(o, n) { return readVariable(this, o, n, false, false); },
    readIntBE(o, n) { return readVariable(this, o, n, true, true); },
    readIntLE(o, n) { return readVariable(this, o, n, false, true); },
    readFloatBE(o) { o = check(this, o, 4); return dv(this).getFloat32(o, false); },
    readFloatLE(o) { o = check(this, o, 4); return dv(this).getFloat32(o, true); },
    readDoubleBE(o) { o = check(this, o, 8); return dv(this).getFloat64(o, false); },
    readDoubleLE(o) { o = check(this, o, 8); return dv(this).getFloat64(o, true); },
  });
  for (const k of Object.getOwnPropertyNames(P)) {
    if (/^read(U?)Int/.test(k)) def(P, k.replace('UInt', 'Uint'), P[k]);
  }
  def(g, 'Buffer', Buffer);

  // ---- TextEncoder / TextDecoder (WHATWG Encoding; UTF-8 only).
  class TextEncoder {
    get encoding() { return 'utf-8'; }
    encode(input = '') { return new Uint8Array(utf8Encode(String(input))); }
    encodeInto(src, dest) {
      src = String(src);
      let read = 0, written = 0;
      const bytes = [];
      for (let i = 0; i < src.length;) {
        const c = codePointAt(src, i);
        bytes.length = 0;
        pushUtf8(c, bytes);
        if (written + bytes.length > dest.length) break;
        dest.set(bytes, written);
        written += bytes.length;
        const units = c > 0xffff ? 2 : 1;
        i += units;
        read += units;
      }
      return { read, written };
    }
  }
  const UTF8_LABELS = ['utf-8', 'utf8', 'unicode-1-1-utf-8', 'unicode11utf8', 'unicode20utf8',
                       'x-unicode20utf8'];
  function inputBytes(v) {
    if (v === undefined) return new Uint8Array(0);
    if (v instanceof ArrayBuffer) return new Uint8Array(v);
    if (ArrayBuffer.isView(v)) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
    if (Array.isArray(v)) return new Uint8Array(v);  // byte arrays, as TTN decoders get them
    throw invalidType('input', 'an instance of ArrayBuffer or ArrayBufferView', v);
  }
  class TextDecoder {
    #fatal; #ignoreBOM; #state = new Utf8State(); #bomDone = false;
    constructor(label = 'utf-8', options = {}) {
      if (!UTF8_LABELS.includes(String(label).trim().toLowerCase())) {
        throw nodeError(RangeError, 'ERR_ENCODING_NOT_SUPPORTED',
                        'The "' + label + '" encoding is not supported');
      }
      options = options === null || options === undefined ? {} : options;
      this.#fatal = Boolean(options.fatal);
      this.#ignoreBOM = Boolean(options.ignoreBOM);
    }
    get encoding() { return 'utf-8'; }
    get fatal() { return this.#fatal; }
    get ignoreBOM() { return this.#ignoreBOM; }
    decode(input, options) {
      const b = inputBytes(input);
      const stream = Boolean(options && options.stream);
      const units = [];
      if (!this.#state.run(b, 0, b.length, !stream, this.#fatal, units)) {
        this.#state.reset();
        this.#bomDone = false;
        const e = new TypeError('The encoded data was not valid for encoding utf-8');
        e.code = 'ERR_ENCODING_INVALID_ENCODED_DATA';  // Node gives this one no "[code]"
        throw e;
      }
      let start = 0;
      if (!this.#bomDone && units.length > 0) {
        if (!this.#ignoreBOM && units[0] === 0xfeff) start = 1;
        this.#bomDone = true;
      }
      if (!stream) this.#bomDone = false;
      return unitsToString(units, start);
    }
  }
  def(g, 'TextEncoder', TextEncoder);
  def(g, 'TextDecoder', TextDecoder);

  // ---- ES2023 findLast / findLastIndex (SpiderMonkey 102 predates them).
  function notCallable(f) {
    const what = typeof f === 'function' || (typeof f === 'object' && f !== null) ? typeof f
                                                                                : describe(f);
    return new TypeError(what + ' is not a function');
  }
  function findLastFrom(o, len, predicate, thisArg, index) {
    if (typeof predicate !== 'function') throw notCallable(predicate);
    for (let k = len - 1; k >= 0; k--) {
      const v = o[k];
      if (predicate.call(thisArg, v, k, o)) return index ? k : v;
    }
    return index ? -1 : undefined;
  }
  function arrayLength(self, name) {
    if (self === null || self === undefined) {
      throw new TypeError('Array.prototype.' + name + ' called on null or undefined');
    }
    const o = Object(self);
    const n = Math.trunc(Number(o.length)) || 0;
    return { o, n: Math.min(Math.max(n, 0), Number.MAX_SAFE_INTEGER) };
  }
  const TypedArray = Object.getPrototypeOf(Int8Array);
  const typedLength = Object.getOwnPropertyDescriptor(TypedArray.prototype, 'length').get;
  const arrayMethods = {
    findLast(predicate) {
      const a = arrayLength(this, 'findLast');
      return findLastFrom(a.o, a.n, predicate, arguments[1], false);
    },
    findLastIndex(predicate) {
      const a = arrayLength(this, 'findLastIndex');
      return findLastFrom(a.o, a.n, predicate, arguments[1], true);
    },
  };
  const typedMethods = {  // typedLength throws a TypeError when `this` is no typed array
    findLast(predicate) {
      return findLastFrom(this, typedLength.call(this), predicate, arguments[1], false);
    },
    findLastIndex(predicate) {
      return findLastFrom(this, typedLength.call(this), predicate, arguments[1], true);
    },
  };
  for (const k of Object.keys(arrayMethods)) {
    if (!(k in Array.prototype)) {
      def(Array.prototype, k, arrayMethods[k]);
      Array.prototype[Symbol.unscopables][k] = true;
    }
    if (!(k in TypedArray.prototype)) def(TypedArray.prototype, k, typedMethods[k]);
  }
})(this);
)JS";

}  // namespace bysans::decode::js
