// Milesight WS101 smart button — decodeUplink codec written for bysans from the Milesight WS101
// user guide (channel + type frames; ff 2e = button event, 01 75 = battery).
function decodeUplink(input) {
  var b = input.bytes;
  var data = {};
  var press = { 1: 'short', 2: 'long', 3: 'double' };
  var info = { 0x01: 1, 0x09: 2, 0x0a: 2, 0x0b: 1, 0x0f: 1, 0x16: 8 };
  var i = 0;
  while (i + 1 < b.length) {
    var ch = b[i], ty = b[i + 1];
    i += 2;
    if (ch === 0x01 && ty === 0x75) {
      data.battery = b[i]; i += 1;
    } else if (ch === 0xff && ty === 0x2e) {
      if (i >= b.length) return { errors: ['truncated button event'] };
      data.button = press[b[i]] || 'unknown';
      data.button_code = b[i];
      i += 1;
    } else if (ch === 0xff && info[ty] !== undefined) {
      i += info[ty];
    } else {
      return { data: data, warnings: ['unknown channel 0x' + ch.toString(16) + ' type 0x' + ty.toString(16)] };
    }
  }
  return { data: data };
}
