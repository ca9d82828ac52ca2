// The prelude's Node/ECMAScript globals (src/decode/js/prelude.cc) against Node: each expected
// output below is what Node 18 prints for the same decoder (JSON.stringify of decode()).
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <string_view>

#include "decode/decoder.h"
#include "decode/js/js_engine.h"
#include "unit/decode/engine_test.h"

namespace bysans::decode {
namespace {

// Returns the error as a value, as Node shows it: name|code|message.
constexpr char kHelper[] = R"js(function t(f) {
  try { return f(); } catch (e) { return e.name + '|' + e.code + '|' + e.message; }
}
)js";

class PreludeTest : public testing::EngineTest {
 protected:
  // The decoder's output JSON (or its error).
  std::string Output(std::string_view decoder) {
    DecodeInput in;
    in.bytes = "\x01";
    in.fport = 1;
    std::string code = std::string(kHelper) + std::string(decoder);
    auto r = engine_->Decode(JsDecoder{1, 0, ++version_, code}, in, 7);
    return r.status.ok() ? r.output_json : "error: " + r.status.message();
  }

  int64_t version_ = 0;
};

TEST_F(PreludeTest, TextDecoderUtf8) {
  EXPECT_EQ(
      Output(R"js(function decode(p, m) {
  var d = new TextDecoder();
  var bytes = Uint8Array.of(0xef, 0xbb, 0xbf, 0x68, 0xc3, 0xa6, 0x20, 0xe2, 0x82, 0xac, 0xf0, 0x9f,
                            0x98, 0x80);
  var s = new TextDecoder('utf-8');
  var streamed = s.decode(Uint8Array.of(0xe2, 0x82), {stream: true}) +
                 s.decode(Uint8Array.of(0xac, 0x41), {stream: true}) + s.decode();
  return {
    text: d.decode(bytes),
    arrayBuffer: d.decode(bytes.buffer),
    view: d.decode(new DataView(bytes.buffer, 3, 3)),
    subarray: d.decode(bytes.subarray(4, 6)),
    keepBom: new TextDecoder('utf8', {ignoreBOM: true}).decode(bytes).length,
    empty: d.decode(),
    streamed: streamed,
    props: [d.encoding, d.fatal, d.ignoreBOM, new TextDecoder(' UTF8 ', {fatal: 1}).fatal],
    label: t(function () { return new TextDecoder('no-such-encoding'); }),
    notBytes: t(function () { return d.decode('abc'); }).split('|').slice(0, 2)
  };
})js"),
      R"json({"text":"hæ €😀","arrayBuffer":"hæ €😀","view":"hæ","subarray":"æ","keepBom":7,"empty":"","streamed":"€A","props":["utf-8",false,false,true],"label":"RangeError|ERR_ENCODING_NOT_SUPPORTED|The \"no-such-encoding\" encoding is not supported","notBytes":["TypeError","ERR_INVALID_ARG_TYPE"]})json");
}

TEST_F(PreludeTest, TextDecoderReplacesInvalidSequencesAsNode) {
  EXPECT_EQ(
      Output(R"js(function decode(p, m) {
  function cps(a) {
    return Array.from(new TextDecoder().decode(Uint8Array.from(a))).map(function (c) {
      return c.codePointAt(0);
    });
  }
  return {
    truncated: cps([0xe2, 0x82, 0x41]), overlong: cps([0xc0, 0x80, 0xe0, 0x80, 0x80]),
    surrogate: cps([0xed, 0xa0, 0x80]), tooBig: cps([0xf4, 0x90, 0x80, 0x80]),
    atEnd: cps([0x41, 0xf0, 0x9f]), badLead: cps([0xff, 0xfe, 0xf8, 0x41]),
    fatal: t(function () { return new TextDecoder('utf-8', {fatal: true}).decode(Uint8Array.of(0xc3)); }),
    fatalOk: new TextDecoder('utf-8', {fatal: true}).decode(Uint8Array.of(0xc3, 0xb8)),
    buffer: Array.from(Buffer.from([0xef, 0xbb, 0xbf, 0xe2, 0x82, 0x41]).toString('utf8')).map(function (c) {
      return c.codePointAt(0);
    })
  };
})js"),
      R"json({"truncated":[65533,65],"overlong":[65533,65533,65533,65533,65533],"surrogate":[65533,65533,65533],"tooBig":[65533,65533,65533,65533],"atEnd":[65,65533],"badLead":[65533,65533,65533,65],"fatal":"TypeError|ERR_ENCODING_INVALID_ENCODED_DATA|The encoded data was not valid for encoding utf-8","fatalOk":"ø","buffer":[65279,65533,65]})json");
}

TEST_F(PreludeTest, TextEncoder) {
  EXPECT_EQ(
      Output(R"js(function decode(p, m) {
  var e = new TextEncoder();
  var dest = new Uint8Array(5);
  var r = e.encodeInto('a\u00e6\ud83d\ude00', dest);
  return {
    encoding: e.encoding, isUint8Array: e.encode('x') instanceof Uint8Array,
    ascii: Array.from(e.encode('Hi')), danish: Array.from(e.encode('\u00e6\u00f8\u00e5\u00b0C')),
    emoji: Array.from(e.encode('\ud83d\ude00')), lone: Array.from(e.encode('a\ud800b\udc00')),
    none: Array.from(e.encode()), nul: Array.from(e.encode(null)),
    into: [r.read, r.written, Array.from(dest)],
    roundTrip: new TextDecoder().decode(e.encode('m\u00e5ling \u00b0C'))
  };
})js"),
      R"json({"encoding":"utf-8","isUint8Array":true,"ascii":[72,105],"danish":[195,166,195,184,195,165,194,176,67],"emoji":[240,159,152,128],"lone":[97,239,191,189,98,239,191,189],"none":[],"nul":[110,117,108,108],"into":[2,3,[97,195,166,0,0]],"roundTrip":"måling °C"})json");
}

TEST_F(PreludeTest, BufferVariableLengthReads) {
  EXPECT_EQ(
      Output(R"js(function decode(p, m) {
  var b = Buffer.from([0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0]);
  var out = {};
  for (var n = 1; n <= 6; n++) {
    out['n' + n] = [b.readUIntBE(1, n), b.readUIntLE(1, n), b.readIntBE(2, n), b.readIntLE(2, n)];
  }
  out.minusOne = Buffer.from([255, 255, 255, 255, 255, 255]).readIntBE(0, 6);
  out.alias = b.readUintLE(0, 3) === b.readUIntLE(0, 3);
  out.len7 = t(function () { return b.readUIntBE(0, 7); });
  out.len0 = t(function () { return b.readIntLE(0, 0); });
  out.lenFraction = t(function () { return b.readUIntLE(0, 2.5); });
  out.lenMissing = t(function () { return b.readUIntBE(0); });
  out.offsetMissing = t(function () { return b.readIntBE(undefined, 2); });
  out.offsetString = t(function () { return b.readUIntBE('1', 2); });
  out.offsetPastEnd = t(function () { return b.readUIntBE(3, 6); });
  out.offsetNegative = t(function () { return b.readIntLE(-1, 2); });
  out.offsetFraction = t(function () { return b.readUIntLE(1.5, 2); });
  out.offsetHuge = t(function () { return b.readUIntLE(2 ** 40, 2); });
  out.tooShort = t(function () { return Buffer.alloc(2).readUIntBE(0, 3); });
  out.fixedPastEnd = t(function () { return b.readUInt32BE(5); });
  out.asString = String((function () { try { b.readUIntBE(0, 9); } catch (e) { return e; } })());
  return out;
})js"),
      R"json({"n1":[52,52,86,86],"n2":[13398,22068,22136,30806],"n3":[3430008,7886388,5666970,-6653866],"n4":[878082202,2591577652,1450744508,-1130727338],"n5":[224789043900,810045429300,371390594270,-142864648106],"n6":[57545995238622,244901626795572,95075992133360,-16635539064746],"minusOne":-1,"alias":true,"len7":"RangeError|ERR_OUT_OF_RANGE|The value of \"byteLength\" is out of range. It must be >= 1 and <= 6. Received 7","len0":"RangeError|ERR_OUT_OF_RANGE|The value of \"byteLength\" is out of range. It must be >= 1 and <= 6. Received 0","lenFraction":"RangeError|ERR_OUT_OF_RANGE|The value of \"byteLength\" is out of range. It must be an integer. Received 2.5","lenMissing":"TypeError|ERR_INVALID_ARG_TYPE|The \"byteLength\" argument must be of type number. Received undefined","offsetMissing":"TypeError|ERR_INVALID_ARG_TYPE|The \"offset\" argument must be of type number. Received undefined","offsetString":"TypeError|ERR_INVALID_ARG_TYPE|The \"offset\" argument must be of type number. Received type string ('1')","offsetPastEnd":"RangeError|ERR_OUT_OF_RANGE|The value of \"offset\" is out of range. It must be >= 0 and <= 2. Received 3","offsetNegative":"RangeError|ERR_OUT_OF_RANGE|The value of \"offset\" is out of range. It must be >= 0 and <= 6. Received -1","offsetFraction":"RangeError|ERR_OUT_OF_RANGE|The value of \"offset\" is out of range. It must be an integer. Received 1.5","offsetHuge":"RangeError|ERR_OUT_OF_RANGE|The value of \"offset\" is out of range. It must be >= 0 and <= 6. Received 1_099_511_627_776","tooShort":"RangeError|ERR_BUFFER_OUT_OF_BOUNDS|Attempt to access memory outside buffer bounds","fixedPastEnd":"RangeError|ERR_OUT_OF_RANGE|The value of \"offset\" is out of range. It must be >= 0 and <= 4. Received 5","asString":"RangeError [ERR_OUT_OF_RANGE]: The value of \"byteLength\" is out of range. It must be >= 1 and <= 6. Received 9"})json");
}

TEST_F(PreludeTest, FindLastAndFindLastIndex) {
  EXPECT_EQ(
      Output(R"js(function decode(p, m) {
  var a = [1, 5, 2, 8, 3];
  var seen = [];
  [1, , 3].findLastIndex(function (x, i, o) { seen.push([x === undefined ? null : x, i, o.length]); return false; });
  return {
    last: a.findLast(function (x) { return x > 2; }),
    lastIndex: a.findLastIndex(function (x) { return x > 2; }),
    none: [a.findLast(function (x) { return x > 100; }) === undefined,
           a.findLastIndex(function (x) { return x > 100; })],
    thisArg: a.findLast(function (x) { return x === this.v; }, {v: 5}),
    sparse: seen,
    arrayLike: Array.prototype.findLast.call({length: 2, 0: 'a', 1: 'b'}, function () { return true; }),
    typed: [Int16Array.of(1, -2, 3, -4).findLast(function (x) { return x < 0; }),
            Float64Array.of(1.5, 2.5).findLastIndex(function (x) { return x < 2; }),
            Buffer.from([1, 2, 3]).findLastIndex(function (x) { return x === 9; })],
    notFunction: t(function () { return a.findLast(3); }).split('|')[0],
    notTyped: t(function () {
      return Object.getPrototypeOf(Int8Array).prototype.findLast.call([1], function () { return true; });
    }).split('|')[0],
    shape: [a.findLast.length, a.findLast.name, a.findLastIndex.length, a.findLastIndex.name,
            Array.prototype[Symbol.unscopables].findLast]
  };
})js"),
      R"json({"last":3,"lastIndex":4,"none":[true,-1],"thisArg":5,"sparse":[[3,2,3],[null,1,3],[1,0,3]],"arrayLike":"b","typed":[-4,0,-1],"notFunction":"TypeError","notTyped":"TypeError","shape":[1,"findLast",1,"findLastIndex",true]})json");
}

// What the prelude adds to built-ins and the global is non-enumerable, like the built-ins' own:
// no decoder sees it in for...in.
TEST_F(PreludeTest, AdditionsAreNotEnumerable) {
  EXPECT_EQ(
      Output(R"js(function decode(p, m) {
    function keys(o) { var k = []; for (var x in o) k.push(x); return k; }
    return {
      array: keys([7, 8]), typed: keys(Uint8Array.of(1)), buffer: keys(Buffer.from([1, 2])),
      global: keys(globalThis).filter(function (k) { return k !== 't' && k !== 'decode'; }),
      encoder: keys(new TextEncoder()), decoder: keys(new TextDecoder()),
      defined: [typeof TextEncoder, typeof TextDecoder, typeof [].findLast,
                typeof Uint8Array.prototype.findLastIndex, typeof Buffer.prototype.readIntLE]
    };
  })js"),
      R"json({"array":["0","1"],"typed":["0"],"buffer":["0","1"],"global":[],"encoder":[],)json"
      R"json("decoder":[],"defined":["function","function","function","function","function"]})json");
}

}  // namespace
}  // namespace bysans::decode
