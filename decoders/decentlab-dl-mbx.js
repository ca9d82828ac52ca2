// Decentlab DL-MBX ultrasonic distance / level sensor — decodeUplink codec written for bysans
// from the Decentlab DL-MBX datasheet (protocol v2).
function decodeUplink(input) {
  var b = input.bytes;
  if (b.length < 5) return { errors: ['payload too short'] };
  if (b[0] !== 2) return { errors: ['unsupported protocol version ' + b[0]] };
  function u16(i) { return (b[i] << 8) | b[i + 1]; }
  var data = { protocol_version: b[0], device_id: u16(1) };
  var flags = u16(3);
  var sensors = [
    [2, function (x) { data.distance = x[0]; data.number_of_valid_samples = x[1]; }],
    [1, function (x) { data.battery_voltage = x[0] / 1000; }],
  ];
  var pos = 5;
  for (var s = 0; s < sensors.length; s++) {
    if ((flags & (1 << s)) === 0) continue;
    var n = sensors[s][0], vals = [];
    if (pos + 2 * n > b.length) return { errors: ['payload truncated in sensor ' + s] };
    for (var k = 0; k < n; k++) { vals.push(u16(pos)); pos += 2; }
    sensors[s][1](vals);
  }
  return { data: data };
}
