#include "decode/js/prelude.h"

namespace bysans::decode::js {

const char kPrelude[] = R"JS(
(function (g) {
  'use strict';
  const atob_ = g.atob, btoa_ = g.btoa;
  const HEX = '0123456789abcdef';
  function utf8Encode(s) {
    const out = [];
    for (let i = 0; i < s.length; i++) {
      let c = s.charCodeAt(i);
      if (c >= 0xd800 && c < 0xdc00 && i + 1 < s.length) {
        const d = s.charCodeAt(i + 1);
        if (d >= 0xdc00 && d < 0xe000) { c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00); i++; }
      }
      if (c < 0x80) out.push(c);
      else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
      else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
      else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63),
                    0x80 | (c & 63));
    }
    return out;
  }
  function utf8Decode(b, s, e) {
    let out = '';
    for (let i = s; i < e;) {
      const c = b[i++];
      let cp;
      if (c < 0x80) cp = c;
      else if (c >= 0xc0 && c < 0xe0 && i < e) cp = ((c & 31) << 6) | (b[i++] & 63);
      else if (c >= 0xe0 && c < 0xf0 && i + 1 < e) {
        cp = ((c & 15) << 12) | ((b[i] & 63) << 6) | (b[i + 1] & 63); i += 2;
      } else if (c >= 0xf0 && i + 2 < e) {
        cp = ((c & 7) << 18) | ((b[i] & 63) << 12) | ((b[i + 1] & 63) << 6) | (b[i + 2] & 63);
        i += 3;
      } else cp = 0xfffd;
      out += String.fromCodePoint(cp);
    }
    return out;
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
  function check(b, o, n) {
    if (o === undefined) o = 0;
    if (typeof o !== 'number' || o !== Math.floor(o) || o < 0 || o + n > b.length) {
      throw new RangeError('The value of "offset" is out of range: ' + o + ' (length ' + b.length + ')');
    }
    return o;
  }
  const P = Buffer.prototype;
  function dv(b) { return new DataView(b.buffer, b.byteOffset, b.byteLength); }
  P.readUInt8 = function (o) { o = check(this, o, 1); return this[o]; };
  P.readInt8 = function (o) { o = check(this, o, 1); const v = this[o]; return v > 127 ? v - 256 : v; };
  P.readUInt16BE = function (o) { o = check(this, o, 2); return (this[o] << 8) | this[o + 1]; };
  P.readUInt16LE = function (o) { o = check(this, o, 2); return this[o] | (this[o + 1] << 8); };
  P.readInt16BE = function (o) { const v = this.readUInt16BE(o); return v > 32767 ? v - 65536 : v; };
  P.readInt16LE = function (o) { const v = this.readUInt16LE(o); return v > 32767 ? v - 65536 : v; };
  P.readUInt32BE = function (o) { o = check(this, o, 4); return ((this[o] << 24) >>> 0) + ((this[o + 1] << 16) | (this[o + 2] << 8) | this[o + 3]); };
  P.readUInt32LE = function (o) { o = check(this, o, 4); return ((this[o + 3] << 24) >>> 0) + ((this[o + 2] << 16) | (this[o + 1] << 8) | this[o]); };
  P.readInt32BE = function (o) { return this.readUInt32BE(o) | 0; };
  P.readInt32LE = function (o) { return this.readUInt32LE(o) | 0; };
  P.readFloatBE = function (o) { o = check(this, o, 4); return dv(this).getFloat32(o, false); };
  P.readFloatLE = function (o) { o = check(this, o, 4); return dv(this).getFloat32(o, true); };
  P.readDoubleBE = function (o) { o = check(this, o, 8); return dv(this).getFloat64(o, false); };
  P.readDoubleLE = function (o) { o = check(this, o, 8); return dv(this).getFloat64(o, true); };
  for (const k of Object.getOwnPropertyNames(P)) {
    if (/^read(U?)Int/.test(k)) P[k.replace('UInt', 'Uint')] = P[k];
  }
  Object.defineProperty(g, 'Buffer', { value: Buffer, writable: true, configurable: true });
})(this);
)JS";

}  // namespace bysans::decode::js
